package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/casegraph/casegraph/graph"
	"github.com/casegraph/casegraph/trusted"
)

const documentsUsage = `  casegraph documents add --manifest FILE DOC.graphql...
                                           register documents in a trusted-documents manifest
  casegraph documents check --manifest FILE
                                           check that the server would accept a manifest
`

// documentsCmd keeps the manifest of trusted documents that a production
// server (CASEGRAPH_TRUSTED_DOCUMENTS) runs, and only those.
func documentsCmd(cfg config, args []string, out io.Writer) error {
	return dispatch("documents", args, out, map[string]func([]string) error{
		"add":   func(args []string) error { return documents(cfg, "add", args, out) },
		"check": func(args []string) error { return documents(cfg, "check", args, out) },
	})
}

// documents runs documents add or check (command).
func documents(cfg config, command string, args []string, out io.Writer) error {
	fs := newFlagSet("documents " + command)
	manifest := fs.String("manifest", "", "the manifest file (Apollo persisted query manifest)")
	if err := parseArgs(fs, args, out); err != nil {
		return err
	}
	if *manifest == "" {
		return errors.New("--manifest is required")
	}
	docs := trusted.New()
	if _, err := os.Stat(*manifest); err == nil || command == "check" {
		loaded, err := trusted.Load(*manifest)
		if err != nil {
			return err
		}
		docs = loaded
	}
	if command == "add" {
		if fs.NArg() == 0 {
			return errors.New("name the .graphql files to register")
		}
		for _, path := range fs.Args() {
			text, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "%s %s\n", docs.Add(string(text)), path)
		}
	}
	if err := graph.CheckTrustedDocuments(docs, limitsFrom(cfg)); err != nil {
		return err
	}
	if command == "check" {
		fmt.Fprintf(out, "%d documents, all valid\n", docs.Len())
		return nil
	}
	raw, err := docs.Manifest()
	if err != nil {
		return err
	}
	return os.WriteFile(*manifest, append(raw, '\n'), 0o644)
}
