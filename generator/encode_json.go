package generator

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/hashicorp/nomad/api"
)

// EncodeJSON prints job in the form `nomad job run -json` and
// POST /v1/jobs accept: {"Job": {...}}, indented, with a final newline.
func EncodeJSON(job *api.Job) ([]byte, error) {
	if job == nil || job.ID == nil {
		return nil, fmt.Errorf("encode job as JSON: job has no ID")
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(struct{ Job *api.Job }{job}); err != nil {
		return nil, fmt.Errorf("encode job %s as JSON: %w", *job.ID, err)
	}
	return buf.Bytes(), nil
}
