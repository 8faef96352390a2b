# Consul ACL policy for `kantree-nomad supervise` in Nomad job kantree: just
# what holding the scheduler lock needs. Create it, then a token for it:
#   consul acl policy create -name kantree-scheduler-lock -rules @acl/consul-scheduler-lock.policy.hcl
#   consul acl token create -description "kantree scheduler lock" -policy-name kantree-scheduler-lock
# and store the token's SecretID under the key "consul_token" of secret/data/kantree
# (vault); the scheduler task reads it as CONSUL_HTTP_TOKEN.

# The lock key itself (acquire, read, release); supervise uses no other key.
key "kantree/kantree/scheduler" {
  policy = "write"
}

# The session: created on whichever Nomad client runs the scheduler.
session_prefix "" {
  policy = "write"
}

# The TTL check the session is bound to (with the node's serfHealth):
# supervise registers it on the local agent as the check of a service of
# this name (no address, no port), keeps it passing, removes the critical
# ones that killed supervisors left and deregisters its own on exit. A
# service check needs write on this service only, not on the node.
service "kantree-scheduler-lock" {
  policy = "write"
}
