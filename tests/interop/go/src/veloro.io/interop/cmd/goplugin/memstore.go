package main

import (
	"bytes"
	"fmt"
	"io"
	"io/ioutil"
	"sort"
	"strings"
	"sync"
	"time"

	hclog "github.com/hashicorp/go-hclog"
)

// memStore is the in-memory ObjectStore example.io/go-store: bucket/key ->
// bytes. Init stores the config; a config key "bucket", when set, must match
// the bucket of every call (as a real store bound to a BSL would check).
type memStore struct {
	log     hclog.Logger
	mu      sync.Mutex
	config  map[string]string
	inited  bool
	objects map[string][]byte
}

func newMemStore(log hclog.Logger) *memStore {
	return &memStore{log: log, objects: map[string][]byte{}}
}

func (s *memStore) Init(config map[string]string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.config = config
	s.inited = true
	s.log.Info("object store initialised", "keys", len(config))
	return nil
}

func (s *memStore) path(bucket, key string) (string, error) {
	if !s.inited {
		return "", fmt.Errorf("object store used before Init")
	}
	if want := s.config["bucket"]; want != "" && want != bucket {
		return "", fmt.Errorf("bucket %q does not match the configured bucket %q", bucket, want)
	}
	return bucket + "/" + key, nil
}

func (s *memStore) PutObject(bucket, key string, body io.Reader) error {
	data, err := ioutil.ReadAll(body)
	if err != nil {
		return fmt.Errorf("reading object body of %s: %w", key, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p, err := s.path(bucket, key)
	if err != nil {
		return err
	}
	s.objects[p] = data
	return nil
}

func (s *memStore) ObjectExists(bucket, key string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, err := s.path(bucket, key)
	if err != nil {
		return false, err
	}
	_, ok := s.objects[p]
	return ok, nil
}

func (s *memStore) GetObject(bucket, key string) (io.ReadCloser, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, err := s.path(bucket, key)
	if err != nil {
		return nil, err
	}
	data, ok := s.objects[p]
	if !ok {
		return nil, fmt.Errorf("object %q not found in bucket %q", key, bucket)
	}
	return ioutil.NopCloser(bytes.NewReader(data)), nil
}

func (s *memStore) keys(bucket, prefix string) ([]string, error) {
	if _, err := s.path(bucket, ""); err != nil {
		return nil, err
	}
	var out []string
	for p := range s.objects {
		if !strings.HasPrefix(p, bucket+"/") {
			continue
		}
		if k := p[len(bucket)+1:]; strings.HasPrefix(k, prefix) {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out, nil
}

func (s *memStore) ListObjects(bucket, prefix string) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.keys(bucket, prefix)
}

// ListCommonPrefixes returns the distinct "prefix + segment + delimiter"
// strings, like S3's CommonPrefixes.
func (s *memStore) ListCommonPrefixes(bucket, prefix, delimiter string) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	keys, err := s.keys(bucket, prefix)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []string
	for _, k := range keys {
		rest := k[len(prefix):]
		if i := strings.Index(rest, delimiter); i >= 0 && delimiter != "" {
			cp := prefix + rest[:i+len(delimiter)]
			if !seen[cp] {
				seen[cp] = true
				out = append(out, cp)
			}
		}
	}
	return out, nil
}

func (s *memStore) DeleteObject(bucket, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, err := s.path(bucket, key)
	if err != nil {
		return err
	}
	delete(s.objects, p)
	return nil
}

func (s *memStore) CreateSignedURL(bucket, key string, ttl time.Duration) (string, error) {
	return fmt.Sprintf("mem://%s/%s?ttl=%s", bucket, key, ttl), nil
}
