# Nomad ACL policy to deploy Kantree (jobs kantree-docker and kantree-docker-upgrade-db):
# submit, plan, watch and roll back the jobs, read the end of a failed task's
# log (kantree-nomad deploy prints it) and read their variables.
#   nomad acl policy apply -description "deploy kantree-docker" kantree-docker-deploy acl/nomad-deploy.policy.hcl
#   nomad acl token create -name "kantree-docker deploy" -policy kantree-docker-deploy

namespace "apps" {
  capabilities = ["list-jobs", "parse-job", "read-job", "submit-job", "read-logs"]

  variables {
    path "nomad/jobs/kantree-docker" {
      capabilities = ["read"]
    }
  }
}

# kantree-nomad deploy checks the agent's version against nomad_version.
agent {
  policy = "read"
}

# Jobs are placed in this node pool.
node_pool "kantree" {
  policy = "read"
}
