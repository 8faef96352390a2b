# Consul ACL policy for consul-template on the load-balancer hosts of Nomad job
# kantree-ha: read the healthy instances of its web and push services.
#   consul acl policy create -name kantree-ha-lb -rules @acl/consul-lb.policy.hcl
#   consul acl token create -description "kantree-ha load balancer" -policy-name kantree-ha-lb

service "kantree-ha-web" {
  policy = "read"
}

service "kantree-ha-push" {
  policy = "read"
}

# Health queries return the nodes the instances run on.
node_prefix "" {
  policy = "read"
}

# Maintenance mode: the site reads this key (kantree-nomad maintenance).
key "kantree/kantree-ha/maintenance" {
  policy = "read"
}
