# Vault policy that lets the tasks of Nomad jobs kantree and kantree-upgrade-db
# read the Kantree secrets. Attach it to the Vault role kantree:
#   vault policy write kantree acl/vault.policy.hcl

path "secret/data/kantree" {
  capabilities = ["read"]
}
