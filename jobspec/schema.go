package jobspec

import "github.com/hashicorp/hcl/v2"

// The schemas of every block. hcl reports anything not listed here as an
// error, with a "Did you mean" suggestion for near misses.

func attrList(names ...string) []hcl.AttributeSchema {
	out := make([]hcl.AttributeSchema, len(names))
	for i, n := range names {
		out[i] = hcl.AttributeSchema{Name: n}
	}
	return out
}

var rootSchema = &hcl.BodySchema{
	Attributes: attrList("job", "region", "datacenters", "namespace", "node_pool", "nomad_version"),
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "variable", LabelNames: []string{"name"}},
		{Type: "kantree"},
		{Type: "process", LabelNames: []string{"kind"}},
		{Type: "worker_group", LabelNames: []string{"name"}},
		{Type: "secrets"},
		{Type: "config"},
		{Type: "scheduler_lock"},
		{Type: "load_balancer"},
		{Type: "kantree_nomad"},
		{Type: "consul"},
	},
}

var kantreeSchema = &hcl.BodySchema{
	Attributes: attrList("version", "server_name", "root", "realtime"),
	Blocks:     []hcl.BlockHeaderSchema{{Type: "archive"}, {Type: "docker"}},
}

var archiveSchema = &hcl.BodySchema{Attributes: attrList("url", "checksum", "driver")}

var dockerSchema = &hcl.BodySchema{Attributes: attrList("image")}

var binarySchema = &hcl.BodySchema{Attributes: attrList("url", "checksum", "path")}

var processAttrs = []string{"count", "cpu", "memory", "command", "port", "health_path",
	"check_interval", "check_timeout", "kill_timeout", "shutdown_delay", "node_class",
	"distinct_hosts", "env", "min_healthy_time", "healthy_deadline", "progress_deadline"}

var placementBlocks = []hcl.BlockHeaderSchema{{Type: "constraint"}, {Type: "spread"}}

var processSchema = &hcl.BodySchema{Attributes: attrList(processAttrs...), Blocks: placementBlocks}

var workerGroupSchema = &hcl.BodySchema{
	Attributes: attrList(append([]string{"queues"}, processAttrs...)...),
	Blocks:     placementBlocks,
}

var constraintSchema = &hcl.BodySchema{Attributes: attrList("attribute", "operator", "value")}

var spreadSchema = &hcl.BodySchema{
	Attributes: attrList("attribute", "weight"),
	Blocks:     []hcl.BlockHeaderSchema{{Type: "target", LabelNames: []string{"value"}}},
}

var targetSchema = &hcl.BodySchema{Attributes: attrList("percent")}

var secretsSchema = &hcl.BodySchema{Attributes: attrList("provider", "path", "vault_role",
	"vault_policies", "database_url_key", "redis_url_key", "license_key", "secret_key_key", "consul_token_key")}

var consulSchema = &hcl.BodySchema{Attributes: attrList("address", "tls", "ca_file", "tls_server_name")}

var configSchema = &hcl.BodySchema{Attributes: attrList("settings", "license_file")}

var lockSchema = &hcl.BodySchema{Attributes: attrList("key", "ttl", "lock_delay", "kill_grace", "check_ttl", "standbys")}

var lbSchema = &hcl.BodySchema{
	Attributes: attrList("kind", "sticky", "listen", "entrypoint", "canaries", "reaction_time"),
	Blocks:     []hcl.BlockHeaderSchema{{Type: "nginx"}, {Type: "system_job"}},
}

var lbNginxSchema = &hcl.BodySchema{Attributes: attrList("site", "test_command", "reload_command", "config_dir",
	"consul_template", "consul_address", "wait_min", "wait_max", "reload_time")}

var lbSystemJobSchema = &hcl.BodySchema{Attributes: attrList("node_class", "driver", "nginx")}
