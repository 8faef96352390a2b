# Nomad ACL policy to deploy Kantree (jobs kantree and kantree-upgrade-db):
# submit and read the jobs and read their variables.
#   nomad acl policy apply -description "deploy kantree" kantree-deploy acl/nomad-deploy.policy.hcl
#   nomad acl token create -name "kantree deploy" -policy kantree-deploy

namespace "default" {
  capabilities = ["list-jobs", "parse-job", "read-job", "submit-job"]

  variables {
    path "nomad/jobs/kantree" {
      capabilities = ["read"]
    }
  }
}

# Jobs are placed in this node pool.
node_pool "default" {
  policy = "read"
}
