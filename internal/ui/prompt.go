package ui

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
)

// ErrNotInteractive is returned by prompts when the streams cannot prompt
// (no terminal, or CI).
var ErrNotInteractive = errors.New("cannot prompt: not running interactively")

// lineReader reads stdin one line at a time in a background goroutine, so a
// read can be abandoned when the context ends. Reading from a terminal cannot
// be interrupted; an abandoned read stays pending and its line is handed to
// the next ReadLine instead of being lost.
type lineReader struct {
	mu      sync.Mutex // serialises ReadLine calls
	once    sync.Once
	r       io.Reader
	req     chan struct{}
	res     chan lineResult
	pending bool
}

type lineResult struct {
	line string
	err  error
}

func (l *lineReader) start() {
	l.req = make(chan struct{}, 1)
	l.res = make(chan lineResult, 1)
	br := bufio.NewReader(l.r)
	go func() {
		for range l.req {
			line, err := br.ReadString('\n')
			if err == io.EOF && line != "" {
				err = nil
			}
			l.res <- lineResult{strings.TrimRight(line, "\r\n"), err}
		}
	}()
}

func (l *lineReader) readLine(ctx context.Context) (string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.once.Do(l.start)
	if !l.pending {
		l.pending = true
		l.req <- struct{}{}
	}
	select {
	case r := <-l.res:
		l.pending = false
		return r.line, r.err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

func (s *IOStreams) reader() *lineReader {
	if s.lines == nil || s.lines.r != s.In {
		s.lines = &lineReader{r: s.In}
	}
	return s.lines
}

// ReadLine reads one line from In without its line ending. It returns
// ctx.Err() as soon as the context ends, even while the read is blocked.
// io.EOF is returned when the input ends before any character.
func (s *IOStreams) ReadLine(ctx context.Context) (string, error) {
	return s.reader().readLine(ctx)
}

// Prompt writes the question to ErrOut and reads the answer. An empty answer
// yields def. It fails with ErrNotInteractive when CanPrompt is false.
func (s *IOStreams) Prompt(ctx context.Context, question, def string) (string, error) {
	if !s.CanPrompt() {
		return "", ErrNotInteractive
	}
	if def != "" {
		fmt.Fprintf(s.ErrOut, "%s [%s]: ", question, def)
	} else {
		fmt.Fprintf(s.ErrOut, "%s: ", question)
	}
	line, err := s.ReadLine(ctx)
	if err != nil {
		fmt.Fprintln(s.ErrOut)
		return "", err
	}
	line = strings.TrimSpace(line)
	if line == "" {
		return def, nil
	}
	return line, nil
}

// Confirm asks a yes/no question on ErrOut. "y" and "yes" (any case) mean
// yes, "n" and "no" mean no, an empty answer means def; anything else asks
// again.
func (s *IOStreams) Confirm(ctx context.Context, question string, def bool) (bool, error) {
	if !s.CanPrompt() {
		return false, ErrNotInteractive
	}
	hint := "y/N"
	if def {
		hint = "Y/n"
	}
	for {
		fmt.Fprintf(s.ErrOut, "%s [%s]: ", question, hint)
		line, err := s.ReadLine(ctx)
		if err != nil {
			fmt.Fprintln(s.ErrOut)
			return false, err
		}
		switch strings.ToLower(strings.TrimSpace(line)) {
		case "":
			return def, nil
		case "y", "yes":
			return true, nil
		case "n", "no":
			return false, nil
		}
		fmt.Fprintln(s.ErrOut, "Please answer yes or no.")
	}
}
