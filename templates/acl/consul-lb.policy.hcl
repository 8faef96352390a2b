[[- /* Consul policy for consul-template on the load-balancer hosts. Data: ACLView. */ -]]
# Consul ACL policy for consul-template on the load-balancer hosts of Nomad job
# [[ .Job ]]: read the healthy instances of its web and push services.
#   consul acl policy create -name [[ .Job ]]-lb -rules @acl/consul-lb.policy.hcl
#   consul acl token create -description "[[ .Job ]] load balancer" -policy-name [[ .Job ]]-lb
[[- range .LBServices ]]

service [[ hclstr . ]] {
  policy = "read"
}
[[- end ]]

# Health queries return the nodes the instances run on.
node_prefix "" {
  policy = "read"
}

# Maintenance mode: the site reads this key (kantree-nomad maintenance).
key [[ hclstr .LB.MaintenanceKey ]] {
  policy = "read"
}
