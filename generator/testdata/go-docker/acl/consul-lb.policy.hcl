# Consul ACL policy for consul-template on the load-balancer hosts of Nomad job
# kantree-docker: read the healthy instances of its web and push services.
#   consul acl policy create -name kantree-docker-lb -rules @acl/consul-lb.policy.hcl
#   consul acl token create -description "kantree-docker load balancer" -policy-name kantree-docker-lb

service "kantree-docker-web" {
  policy = "read"
}

service "kantree-docker-realtime" {
  policy = "read"
}

# Health queries return the nodes the instances run on.
node_prefix "" {
  policy = "read"
}

# Maintenance mode: the site reads this key (kantree-nomad maintenance).
key "kantree/kantree-docker/maintenance" {
  policy = "read"
}
