# Nomad ACL policy to deploy Kantree (jobs kantree and kantree-upgrade-db):
# submit and read the jobs.
#   nomad acl policy apply -description "deploy kantree" kantree-deploy acl/nomad-deploy.policy.hcl
#   nomad acl token create -name "kantree deploy" -policy kantree-deploy

namespace "kantree" {
  capabilities = ["list-jobs", "parse-job", "read-job", "submit-job"]
}

# Jobs are placed in this node pool.
node_pool "apps" {
  policy = "read"
}
