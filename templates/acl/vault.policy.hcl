[[- /* Vault policy for the tasks when secrets come from Vault. Data: ACLView. */ -]]
# Vault policy that lets the tasks of Nomad jobs [[ .Job ]] and [[ .UpgradeJob ]]
# read the Kantree secrets. Attach it to the Vault role [[ if .VaultRole ]][[ .VaultRole ]][[ else ]]that Nomad uses for these jobs[[ end ]]:
#   vault policy write [[ .Job ]] acl/vault.policy.hcl

path [[ hclstr .SecretsPath ]] {
  capabilities = ["read"]
}
