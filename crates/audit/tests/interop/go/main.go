// Command sentinel-interop checks Sentinel audit artefacts with Go's own
// golang.org/x/mod/sumdb/note and golang.org/x/mod/sumdb/tlog, code Sentinel did
// not write.
//
//	sentinel-interop verify <case.json>   verify a signed checkpoint, the tree
//	                                      recomputed from the records, and proofs
//	sentinel-interop sign <name> <text>   generate a Go key, sign a note text, print JSON
//
// It exits 0 and prints "ok" when everything verifies, and exits 1 naming the
// first failure otherwise.
package main

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io/ioutil"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type inclusion struct {
	Index    int64       `json:"index"`
	LeafHash tlog.Hash   `json:"leaf_hash"`
	Proof    []tlog.Hash `json:"proof"`
}

type consistency struct {
	OldSize int64       `json:"old_size"`
	OldRoot tlog.Hash   `json:"old_root"`
	Proof   []tlog.Hash `json:"proof"`
}

type verifyCase struct {
	VerifierKey  string        `json:"verifier_key"`
	Checkpoint   string        `json:"checkpoint"`
	Records      []string      `json:"records"`       // base64 record data, optional
	StoredHashes []tlog.Hash   `json:"stored_hashes"` // Sentinel's stored-hash array, optional
	Inclusion    []inclusion   `json:"inclusion"`
	Consistency  []consistency `json:"consistency"`
}

type memReader []tlog.Hash

func (m *memReader) ReadHashes(idx []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(idx))
	for i, x := range idx {
		if x < 0 || x >= int64(len(*m)) {
			return nil, fmt.Errorf("no stored hash %d", x)
		}
		out[i] = (*m)[x]
	}
	return out, nil
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "FAIL: "+format+"\n", args...)
	os.Exit(1)
}

// parseCheckpoint reads a C2SP tlog-checkpoint body (origin, size, root, extensions).
func parseCheckpoint(text string) (string, int64, tlog.Hash) {
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) < 3 || !strings.HasSuffix(text, "\n") {
		fail("checkpoint body is not origin/size/root: %q", text)
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 || strconv.FormatInt(size, 10) != lines[1] {
		fail("checkpoint size %q", lines[1])
	}
	root, err := tlog.ParseHash(lines[2])
	if err != nil {
		fail("checkpoint root %q: %v", lines[2], err)
	}
	return lines[0], size, root
}

func verify(path string) {
	data, err := ioutil.ReadFile(path)
	if err != nil {
		fail("%v", err)
	}
	var c verifyCase
	if err := json.Unmarshal(data, &c); err != nil {
		fail("case json: %v", err)
	}
	v, err := note.NewVerifier(c.VerifierKey)
	if err != nil {
		fail("verifier key: %v", err)
	}
	n, err := note.Open([]byte(c.Checkpoint), note.VerifierList(v))
	if err != nil {
		fail("checkpoint signature: %v", err)
	}
	origin, size, root := parseCheckpoint(n.Text)
	if origin != v.Name() {
		fail("checkpoint origin %q is not the key name %q", origin, v.Name())
	}

	if c.Records != nil {
		// Rebuild the tree from the records with tlog's own code.
		var stored memReader
		for i, r := range c.Records {
			rec, err := base64.StdEncoding.DecodeString(r)
			if err != nil {
				fail("record %d: %v", i, err)
			}
			hs, err := tlog.StoredHashes(int64(i), rec, &stored)
			if err != nil {
				fail("stored hashes %d: %v", i, err)
			}
			stored = append(stored, hs...)
		}
		if int64(len(c.Records)) != size {
			fail("%d records but checkpoint size %d", len(c.Records), size)
		}
		th, err := tlog.TreeHash(size, &stored)
		if err != nil {
			fail("tree hash: %v", err)
		}
		if th != root {
			fail("root recomputed from records %v != checkpoint root %v", th, root)
		}
		if c.StoredHashes != nil {
			if len(c.StoredHashes) != len(stored) {
				fail("stored hash count %d != tlog's %d", len(c.StoredHashes), len(stored))
			}
			for i := range stored {
				if stored[i] != c.StoredHashes[i] {
					fail("stored hash %d differs from tlog's layout", i)
				}
			}
		}
	}
	for _, in := range c.Inclusion {
		if err := tlog.CheckRecord(tlog.RecordProof(in.Proof), size, root, in.Index, in.LeafHash); err != nil {
			fail("inclusion of record %d in size %d: %v", in.Index, size, err)
		}
	}
	for _, co := range c.Consistency {
		if err := tlog.CheckTree(tlog.TreeProof(co.Proof), size, root, co.OldSize, co.OldRoot); err != nil {
			fail("consistency %d -> %d: %v", co.OldSize, size, err)
		}
	}
	fmt.Printf("ok: %s size %d, %d inclusion and %d consistency proofs\n", origin, size, len(c.Inclusion), len(c.Consistency))
}

func sign(name, textPath string) {
	text, err := ioutil.ReadFile(textPath)
	if err != nil {
		fail("%v", err)
	}
	skey, vkey, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		fail("generate key: %v", err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		fail("signer: %v", err)
	}
	msg, err := note.Sign(&note.Note{Text: string(text)}, s)
	if err != nil {
		fail("sign: %v", err)
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	if err := enc.Encode(map[string]string{"signer_key": skey, "verifier_key": vkey, "note": string(msg)}); err != nil {
		fail("%v", err)
	}
	os.Stdout.Write(out.Bytes())
}

func main() {
	switch {
	case len(os.Args) == 3 && os.Args[1] == "verify":
		verify(os.Args[2])
	case len(os.Args) == 4 && os.Args[1] == "sign":
		sign(os.Args[2], os.Args[3])
	default:
		fail("usage: sentinel-interop verify <case.json> | sign <name> <text-file>")
	}
}
