# Nomad ACL policy to deploy Kantree (jobs kantree-ha and kantree-ha-upgrade-db):
# submit and read the jobs.
#   nomad acl policy apply -description "deploy kantree-ha" kantree-ha-deploy acl/nomad-deploy.policy.hcl
#   nomad acl token create -name "kantree-ha deploy" -policy kantree-ha-deploy

namespace "default" {
  capabilities = ["list-jobs", "parse-job", "read-job", "submit-job"]
}

# Jobs are placed in this node pool.
node_pool "default" {
  policy = "read"
}
