package main

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io/ioutil"
	"math/rand"
	"reflect"
	"sort"
	"time"

	"google.golang.org/grpc/codes"

	"veloro.io/interop/framework"
)

// storeContract runs the ObjectStore round trips a Velero host relies on
// against one named store. Keys live under a per-run prefix so a shared
// store directory cannot make listings ambiguous.
type storeContract struct {
	rep    *Report
	store  framework.ObjectStore
	name   string
	bucket string
	config map[string]string
	size   int
	base   string
}

func (s *storeContract) check(name string, fn func(c *Check) error) bool {
	return s.rep.run(name, framework.KindObjectStore, s.name, fn).OK
}

func (s *storeContract) runAll() {
	if !s.check("objectstore.init", func(*Check) error { return s.store.Init(s.config) }) {
		return
	}
	big := make([]byte, s.size)
	rand.New(rand.NewSource(42)).Read(big)
	bigKey := s.base + "backups/b1/data.bin"
	s.check("objectstore.put_large_16k_chunks", func(c *Check) error {
		c.Info["bytes"] = len(big)
		c.Info["chunks"] = (len(big) + framework.ChunkSize - 1) / framework.ChunkSize
		return s.store.PutObject(s.bucket, bigKey, bytes.NewReader(big))
	})
	s.check("objectstore.get_large_roundtrip", func(c *Check) error { return s.getEquals(c, bigKey, big) })
	emptyKey := s.base + "backups/b1/empty"
	s.check("objectstore.put_get_empty", func(c *Check) error {
		if err := s.store.PutObject(s.bucket, emptyKey, bytes.NewReader(nil)); err != nil {
			return err
		}
		return s.getEquals(c, emptyKey, nil)
	})
	small := map[string]string{
		s.base + "backups/b1/meta.json": `{"b":1}`,
		s.base + "backups/b2/meta.json": `{"b":2}`,
		s.base + "restores/r1/log":      "restore log",
	}
	s.check("objectstore.put_small", func(*Check) error {
		for k, v := range small {
			if err := s.store.PutObject(s.bucket, k, bytes.NewReader([]byte(v))); err != nil {
				return err
			}
		}
		return nil
	})
	s.check("objectstore.exists", func(*Check) error { return s.exists(bigKey, true) })
	s.check("objectstore.exists_missing", func(*Check) error { return s.exists(s.base+"nope/none", false) })
	s.check("objectstore.list_objects", func(c *Check) error {
		want := []string{bigKey, emptyKey, s.base + "backups/b1/meta.json"}
		return s.listEquals(c, func() ([]string, error) {
			return s.store.ListObjects(s.bucket, s.base+"backups/b1/")
		}, want)
	})
	s.check("objectstore.list_common_prefixes", func(c *Check) error {
		want := []string{s.base + "backups/b1/", s.base + "backups/b2/"}
		return s.listEquals(c, func() ([]string, error) {
			return s.store.ListCommonPrefixes(s.bucket, s.base+"backups/", "/")
		}, want)
	})
	s.check("objectstore.list_common_prefixes_top", func(c *Check) error {
		want := []string{s.base + "backups/", s.base + "restores/"}
		return s.listEquals(c, func() ([]string, error) {
			return s.store.ListCommonPrefixes(s.bucket, s.base, "/")
		}, want)
	})
	s.check("objectstore.create_signed_url", func(c *Check) error {
		url, err := s.store.CreateSignedURL(s.bucket, bigKey, 10*time.Minute)
		c.Info["url_len"] = len(url)
		if err == nil && url == "" {
			return fmt.Errorf("CreateSignedURL returned an empty URL")
		}
		return err
	})
	s.check("objectstore.delete", func(*Check) error {
		if err := s.store.DeleteObject(s.bucket, bigKey); err != nil {
			return err
		}
		return s.exists(bigKey, false)
	})
	s.check("objectstore.get_missing_is_error", func(c *Check) error { return s.missingIsError(c, bigKey) })
}

func (s *storeContract) getEquals(c *Check, key string, want []byte) error {
	rc, err := s.store.GetObject(s.bucket, key)
	if err != nil {
		return err
	}
	defer rc.Close()
	got, err := ioutil.ReadAll(rc)
	if err != nil {
		return err
	}
	c.Info["received_chunks"] = framework.ChunkCount(rc)
	if !bytes.Equal(got, want) {
		return fmt.Errorf("GetObject %s returned %d bytes (sha256 %x), want %d bytes (sha256 %x)",
			key, len(got), sha256.Sum256(got), len(want), sha256.Sum256(want))
	}
	return nil
}

func (s *storeContract) exists(key string, want bool) error {
	got, err := s.store.ObjectExists(s.bucket, key)
	if err != nil {
		return err
	}
	if got != want {
		return fmt.Errorf("ObjectExists(%s) = %v, want %v", key, got, want)
	}
	return nil
}

func (s *storeContract) listEquals(c *Check, list func() ([]string, error), want []string) error {
	got, err := list()
	if err != nil {
		return err
	}
	sort.Strings(got)
	sort.Strings(want)
	c.Info["got"] = got
	if len(got) == 0 && len(want) == 0 || reflect.DeepEqual(got, want) {
		return nil
	}
	return fmt.Errorf("got %q, want %q", got, want)
}

// missingIsError: the error must surface (on the stream) with status Unknown,
// the code every Velero plugin error travels with.
func (s *storeContract) missingIsError(c *Check, key string) error {
	rc, err := s.store.GetObject(s.bucket, key)
	if err == nil {
		_, err = ioutil.ReadAll(rc)
		rc.Close()
	}
	if err == nil {
		return fmt.Errorf("GetObject of deleted key %s succeeded; want an error", key)
	}
	c.Info["error"] = err.Error()
	re, ok := err.(*framework.RemoteError)
	if !ok {
		return fmt.Errorf("missing key gave a non-gRPC error: %v", err)
	}
	c.Info["code"] = re.Code.String()
	c.Info["remote_frames"] = len(re.Frames)
	if re.Code != codes.Unknown {
		return fmt.Errorf("missing key error has gRPC code %s, want Unknown (plugin errors travel as Unknown)", re.Code)
	}
	return nil
}
