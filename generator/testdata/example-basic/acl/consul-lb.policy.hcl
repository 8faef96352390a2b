# Consul ACL policy for consul-template on the load-balancer hosts of Nomad job
# kantree: read the healthy instances of its web and push services.
#   consul acl policy create -name kantree-lb -rules @acl/consul-lb.policy.hcl
#   consul acl token create -description "kantree load balancer" -policy-name kantree-lb

service "kantree-web" {
  policy = "read"
}

service "kantree-push" {
  policy = "read"
}

# Health queries return the nodes the instances run on.
node_prefix "" {
  policy = "read"
}

# Maintenance mode: the site reads this key (kantree-nomad maintenance).
key "kantree/kantree/maintenance" {
  policy = "read"
}
