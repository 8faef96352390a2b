package testbed

import (
	"archive/tar"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"
)

// FileServer serves the files of a directory over HTTP on 127.0.0.1, for
// Nomad's artifact block, and counts the requests for each path.
type FileServer struct {
	URL string // "http://127.0.0.1:port", without a trailing slash
	Dir string

	mu      sync.Mutex
	fetches map[string]int
}

// ServeFiles serves dir at a new FileServer until the end of the test.
// Files added to dir later are served too.
func ServeFiles(t testing.TB, dir string) *FileServer {
	t.Helper()
	return ServeFilesOn(t, "127.0.0.1", dir)
}

// ServeFilesOn is ServeFiles on ip, e.g. a cluster's hub address.
func ServeFilesOn(t testing.TB, ip, dir string) *FileServer {
	t.Helper()
	// Port 0: the kernel picks an ephemeral port and it is bound at once,
	// so no other program can take it first.
	l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatalf("testbed: file server: %v", err)
	}
	fs := &FileServer{URL: "http://" + l.Addr().String(), Dir: dir, fetches: map[string]int{}}
	files := http.FileServer(http.Dir(dir))
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fs.mu.Lock()
			fs.fetches[r.URL.Path]++
			fs.mu.Unlock()
			files.ServeHTTP(w, r)
		})}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return fs
}

// Fetches returns how many requests asked for path ("/name.tar.gz").
func (s *FileServer) Fetches(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fetches[path]
}

// Tarball is a release archive of the stand-in platform, as Kantree ships
// its releases: `platform` at the root of a .tar.gz.
type Tarball struct {
	Path     string // the .tar.gz file
	Name     string // its base name, e.g. "kantree-8.4.1.tar.gz"
	Checksum string // "sha256:<hex>", the form of Nomad's artifact checksum option
}

// PlatformTarball writes dir/kantree-<version>.tar.gz holding the static
// stand-in (BuildPlatformStatic) as `platform` and a VERSION file, so that
// two versions are two archives with different checksums. The archive is
// reproducible: the same platform binary gives the same checksum.
func PlatformTarball(t testing.TB, dir, version string) Tarball {
	t.Helper()
	bin, err := os.ReadFile(BuildPlatformStatic(t))
	if err != nil {
		t.Fatalf("testbed: read platform: %v", err)
	}
	name := "kantree-" + version + ".tar.gz"
	path := filepath.Join(dir, name)
	sum, err := writeTarGz(path, map[string]tarFile{
		"platform": {mode: 0o755, body: bin},
		"VERSION":  {mode: 0o644, body: []byte(version + "\n")},
	})
	if err != nil {
		t.Fatalf("testbed: write %s: %v", path, err)
	}
	return Tarball{Path: path, Name: name, Checksum: "sha256:" + sum}
}

type tarFile struct {
	mode int64
	body []byte
}

// writeTarGz writes files to a .tar.gz at path (atomically) and returns
// its SHA-256 in hex.
func writeTarGz(path string, files map[string]tarFile) (string, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tarball-")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name())
	h := sha256.New()
	if err := writeTar(io.MultiWriter(tmp, h), files); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func writeTar(w io.Writer, files map[string]tarFile) error {
	gz := gzip.NewWriter(w)
	tw := tar.NewWriter(gz)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	epoch := time.Unix(0, 0)
	for _, n := range names {
		f := files[n]
		hdr := &tar.Header{Name: n, Mode: f.mode, Size: int64(len(f.body)), ModTime: epoch, Typeflag: tar.TypeReg}
		if err := tw.WriteHeader(hdr); err != nil {
			return fmt.Errorf("tar %s: %w", n, err)
		}
		if _, err := tw.Write(f.body); err != nil {
			return fmt.Errorf("tar %s: %w", n, err)
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return gz.Close()
}
