// render-json renders a kustomization, decodes every object strictly (as the
// verify tests do) and prints the objects as one JSON array on stdout, for
// tools without a YAML parser (tests/deploy/manifest_replay_test.py).
//
//	go run ./cmd/render-json <kustomization dir>
//
// Exit 1, with the reasons on stderr, when rendering or strict decoding fails.
package main

import (
	"bytes"
	"fmt"
	"os"

	"github.com/spotify-etl/spotify-etl/deploy/k8s/verify"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: render-json <kustomization dir>")
		os.Exit(2)
	}
	stream, err := verify.Render(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	objects, errs := verify.DecodeStream(stream)
	for _, e := range errs {
		fmt.Fprintln(os.Stderr, e)
	}
	if len(errs) > 0 {
		os.Exit(1)
	}
	var out bytes.Buffer
	out.WriteString("[")
	for i, o := range objects {
		if i > 0 {
			out.WriteString(",\n")
		}
		out.Write(o.JSON)
	}
	out.WriteString("]\n")
	os.Stdout.Write(out.Bytes())
}
