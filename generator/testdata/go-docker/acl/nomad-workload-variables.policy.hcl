# Nomad ACL policy that lets the tasks of a job read the Kantree secrets in
# nomad/jobs/kantree-docker. A task reads its own job's path (nomad/jobs/<job>)
# without it; the upgrade-db job (kantree-docker-upgrade-db) needs it always, the
# service job (kantree-docker) only when the path is not nomad/jobs/kantree-docker:
#   nomad acl policy apply -namespace apps -job kantree-docker-upgrade-db kantree-docker-upgrade-db-variables acl/nomad-workload-variables.policy.hcl
#   nomad acl policy apply -namespace apps -job kantree-docker kantree-docker-variables acl/nomad-workload-variables.policy.hcl

namespace "apps" {
  variables {
    path "nomad/jobs/kantree-docker" {
      capabilities = ["read"]
    }
  }
}
