package rules

// Nomad versions the rendered jobs can target. Users run Nomad 1.6 to 1.10
// and later; a deployment file names the version its jobs are for (default
// NewestNomad) and the renderer writes what that version understands.
const (
	// OldestNomad is the oldest Nomad the rendered jobs run on: the first
	// with node pools, and the newest release under the MPL, which the
	// tests run for real.
	OldestNomad = "1.6"
	// NewestNomad is the newest Nomad whose job specification the renderer
	// knows; it is the default target. Later versions get what 1.10 gets.
	NewestNomad = "1.10"
)

// NomadFeature is a job-specification feature that not every supported
// Nomad version has.
type NomadFeature struct {
	Name  string // what the feature is, for messages
	Since string // first Nomad version that has it
}

// Features whose rendering differs by Nomad version.
var (
	// VaultWorkloadIdentity: the task's vault block names a role and Nomad
	// logs in to Vault with the workload's identity; before it, the vault
	// block lists policies and the Nomad servers hold a Vault token.
	VaultWorkloadIdentity = NomadFeature{"Vault workload identity (vault { role })", "1.7"}
	// LegacyVaultPolicies: vault { policies } and the servers' Vault token
	// were removed in Nomad 1.10.
	LegacyVaultPoliciesRemoved = NomadFeature{"removal of vault { policies }", "1.10"}
	// DisconnectBlock: the group's disconnect block replaces
	// max_client_disconnect and stop_after_client_disconnect.
	DisconnectBlock = NomadFeature{"the group disconnect block", "1.8"}
)

// NomadHas reports whether Nomad version v has feature f. v must parse.
func NomadHas(v string, f NomadFeature) bool {
	c, err := CompareVersions(v, f.Since)
	return err == nil && c >= 0
}
