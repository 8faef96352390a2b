# Consul ACL policy for `kantree-nomad supervise` in Nomad job kantree: just
# what holding the scheduler lock needs. Create it, then a token for it:
#   consul acl policy create -name kantree-scheduler-lock -rules @acl/consul-scheduler-lock.policy.hcl
#   consul acl token create -description "kantree scheduler lock" -policy-name kantree-scheduler-lock
# and store the token's SecretID under the key "consul_token" of nomad/jobs/kantree
# (nomad); the scheduler task reads it as CONSUL_HTTP_TOKEN.

# The lock key, and keys below it.
key_prefix "kantree/kantree/scheduler" {
  policy = "write"
}

# The session: created on whichever Nomad client runs the scheduler.
session_prefix "" {
  policy = "write"
}

# The TTL check the session is bound to: supervise registers it on the local
# agent as a node check (no service), and keeps it passing, which needs write
# on the node; that node is whichever Nomad client runs the scheduler.
node_prefix "" {
  policy = "write"
}
