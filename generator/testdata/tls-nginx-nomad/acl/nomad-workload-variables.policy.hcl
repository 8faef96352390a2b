# Nomad ACL policy that lets the tasks of a job read the Kantree secrets in
# nomad/jobs/kantree. A task reads its own job's path (nomad/jobs/<job>)
# without it; the upgrade-db job (kantree-upgrade-db) needs it always, the
# service job (kantree) only when the path is not nomad/jobs/kantree:
#   nomad acl policy apply -namespace default -job kantree-upgrade-db kantree-upgrade-db-variables acl/nomad-workload-variables.policy.hcl
#   nomad acl policy apply -namespace default -job kantree kantree-variables acl/nomad-workload-variables.policy.hcl

namespace "default" {
  variables {
    path "nomad/jobs/kantree" {
      capabilities = ["read"]
    }
  }
}
