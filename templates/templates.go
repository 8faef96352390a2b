package templates

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"text/template"
)

//go:embed lb acl nomad runbook
var files embed.FS

// set holds every embedded file as a template named by its path, e.g.
// "lb/nginx.conf.ctmpl".
var set = mustParse()

func mustParse() *template.Template {
	root := template.New("").Delims("[[", "]]").Funcs(funcs).Option("missingkey=error")
	err := fs.WalkDir(files, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		text, err := files.ReadFile(path)
		if err != nil {
			return err
		}
		_, err = root.New(path).Parse(string(text))
		return err
	})
	if err != nil {
		panic(fmt.Sprintf("templates: parse embedded files: %v", err))
	}
	return root
}

// Names lists the embedded templates, sorted.
func Names() []string {
	var names []string
	for _, t := range set.Templates() {
		if t.Name() != "" {
			names = append(names, t.Name())
		}
	}
	sort.Strings(names)
	return names
}

// Render executes the embedded template called name (its path, e.g.
// "lb/nginx.conf.ctmpl") with data.
func Render(name string, data any) ([]byte, error) {
	t := set.Lookup(name)
	if t == nil {
		return nil, fmt.Errorf("render template %s: no such template", name)
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		return nil, fmt.Errorf("render template %s: %w", name, err)
	}
	return buf.Bytes(), nil
}

var funcs = template.FuncMap{
	"hclstr":  HCLString,
	"jsonstr": JSONString,
	"gostr":   strconv.Quote,
}

// HCLString returns s as an HCL quoted string literal, with the template
// sequences "${" and "%{" escaped so that HCL reads them literally.
func HCLString(s string) string {
	q := JSONString(s)
	q = strings.ReplaceAll(q, "${", "$${")
	return strings.ReplaceAll(q, "%{", "%%{")
}

// JSONString returns s as a JSON string literal without HTML escaping. A
// JSON string is also a valid YAML double-quoted scalar.
func JSONString(s string) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		panic(err) // a string always encodes
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

// CTLiteral makes s literal text inside a consul-template (or Nomad
// template) body: every "{{" that would open an action is written as an
// action that prints "{{". A lone "}}" is already literal.
func CTLiteral(s string) string {
	return strings.ReplaceAll(s, "{{", `{{"{{"}}`)
}
