[[- /* Nomad policy for whoever deploys the jobs. Data: ACLView. */ -]]
# Nomad ACL policy to deploy Kantree (jobs [[ .Job ]] and [[ .UpgradeJob ]]):
# submit, plan, watch and roll back the jobs, read the end of a failed task's
# log (kantree-nomad deploy prints it)[[ if .NomadVariables ]] and read their variables[[ end ]].
#   nomad acl policy apply -description "deploy [[ .Job ]]" [[ .Job ]]-deploy acl/nomad-deploy.policy.hcl
#   nomad acl token create -name "[[ .Job ]] deploy" -policy [[ .Job ]]-deploy

namespace [[ hclstr .Namespace ]] {
  capabilities = ["list-jobs", "parse-job", "read-job", "submit-job", "read-logs"]
[[- if .NomadVariables ]]

  variables {
    path [[ hclstr .SecretsPath ]] {
      capabilities = ["read"]
    }
  }
[[- end ]]
}

# kantree-nomad deploy checks the agent's version against nomad_version.
agent {
  policy = "read"
}

# Jobs are placed in this node pool.
node_pool [[ hclstr .NodePool ]] {
  policy = "read"
}
