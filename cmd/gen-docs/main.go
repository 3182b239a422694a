// Command gen-docs writes the command reference from the cobra command tree:
// one markdown page per command (committed, in docs/commands) and, when asked,
// one man page per command (a build product, not committed).
//
//	go run ./cmd/gen-docs -markdown-dir docs/commands -man-dir bin/man -date 2026-07-01
//
// The output depends only on the command tree: no dates in the markdown, and
// the man pages carry the date given with -date (or SOURCE_DATE_EPOCH), so
// `make check-docs` can compare the markdown with what is committed.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"time"
)

func main() {
	var o options
	flag.StringVar(&o.MarkdownDir, "markdown-dir", "", "write the markdown reference into this directory (its tharsis*.md files are replaced)")
	flag.StringVar(&o.ManDir, "man-dir", "", "write man pages (section 1) into this directory")
	date := flag.String("date", "", "date printed in the man pages, YYYY-MM-DD (default: SOURCE_DATE_EPOCH)")
	flag.Parse()
	if flag.NArg() > 0 {
		fail(fmt.Errorf("unexpected argument %q", flag.Arg(0)))
	}
	if o.MarkdownDir == "" && o.ManDir == "" {
		fail(errors.New("nothing to do: give -markdown-dir and/or -man-dir"))
	}
	if o.ManDir != "" {
		d, err := manDate(*date, os.Getenv("SOURCE_DATE_EPOCH"))
		if err != nil {
			fail(err)
		}
		o.ManDate = d
	}
	if err := generate(o); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "gen-docs:", err)
	os.Exit(1)
}

// manDate picks the man page date: -date, else SOURCE_DATE_EPOCH (the
// reproducible-builds convention). Without either it fails rather than use
// the clock, so two runs never differ.
func manDate(flagValue, epoch string) (time.Time, error) {
	switch {
	case flagValue != "":
		d, err := time.Parse(time.DateOnly, flagValue)
		if err != nil {
			return time.Time{}, fmt.Errorf("-date: %w", err)
		}
		return d, nil
	case epoch != "":
		sec, err := strconv.ParseInt(epoch, 10, 64)
		if err != nil {
			return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH: %w", err)
		}
		return time.Unix(sec, 0).UTC(), nil
	}
	return time.Time{}, errors.New("man pages need a date: give -date YYYY-MM-DD or set SOURCE_DATE_EPOCH")
}
