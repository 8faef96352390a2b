# Nomad ACL policy to deploy Kantree (jobs kantree and kantree-upgrade-db):
# submit, plan, watch and roll back the jobs, read the end of a failed task's
# log (kantree-nomad deploy prints it) and read their variables.
#   nomad acl policy apply -description "deploy kantree" kantree-deploy acl/nomad-deploy.policy.hcl
#   nomad acl token create -name "kantree deploy" -policy kantree-deploy

namespace "default" {
  capabilities = ["list-jobs", "parse-job", "read-job", "submit-job", "read-logs"]

  variables {
    path "nomad/jobs/kantree" {
      capabilities = ["read"]
    }
  }
}

# kantree-nomad deploy checks the agent's version against nomad_version.
agent {
  policy = "read"
}

# Jobs are placed in this node pool.
node_pool "default" {
  policy = "read"
}
