# Nomad ACL policy to deploy Kantree (jobs kantree-docker and kantree-docker-upgrade-db):
# submit and read the jobs and read their variables.
#   nomad acl policy apply -description "deploy kantree-docker" kantree-docker-deploy acl/nomad-deploy.policy.hcl
#   nomad acl token create -name "kantree-docker deploy" -policy kantree-docker-deploy

namespace "apps" {
  capabilities = ["list-jobs", "parse-job", "read-job", "submit-job"]

  variables {
    path "nomad/jobs/kantree-docker" {
      capabilities = ["read"]
    }
  }
}

# Jobs are placed in this node pool.
node_pool "kantree" {
  policy = "read"
}
