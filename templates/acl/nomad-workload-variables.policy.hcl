[[- /* Nomad workload policy for reading the variables from a job's tasks. Data: ACLView. */ -]]
# Nomad ACL policy that lets the tasks of a job read the Kantree secrets in
# [[ .SecretsPath ]]. A task reads its own job's path (nomad/jobs/<job>)
# without it; the upgrade-db job ([[ .UpgradeJob ]]) needs it always, the
# service job ([[ .Job ]]) only when the path is not nomad/jobs/[[ .Job ]]:
#   nomad acl policy apply -namespace [[ .Namespace ]] -job [[ .UpgradeJob ]] [[ .UpgradeJob ]]-variables acl/nomad-workload-variables.policy.hcl
#   nomad acl policy apply -namespace [[ .Namespace ]] -job [[ .Job ]] [[ .Job ]]-variables acl/nomad-workload-variables.policy.hcl

namespace [[ hclstr .Namespace ]] {
  variables {
    path [[ hclstr .SecretsPath ]] {
      capabilities = ["read"]
    }
  }
}
