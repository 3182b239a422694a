package sso

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

// browserWait is how long an opener command may take to report a failure;
// one still running after that is assumed to have opened the page.
const browserWait = 5 * time.Second

// openBrowser opens url in the user's browser: $BROWSER when set (a
// list of commands separated by ":", as xdg-utils reads it), else the
// platform's opener. It fails when there is no display on Linux or when the
// opener fails, so the caller can tell the user to open the URL by hand.
func openBrowser(ctx context.Context, getenv func(string) string, url string) error {
	var cmds [][]string
	if b := strings.TrimSpace(getenv("BROWSER")); b != "" {
		for _, c := range strings.Split(b, ":") {
			if f := strings.Fields(c); len(f) > 0 {
				cmds = append(cmds, append(f, url))
			}
		}
	} else {
		switch runtime.GOOS {
		case "darwin":
			cmds = [][]string{{"open", url}}
		case "windows":
			cmds = [][]string{{"rundll32", "url.dll,FileProtocolHandler", url}}
		default:
			if getenv("DISPLAY") == "" && getenv("WAYLAND_DISPLAY") == "" {
				return errors.New("no display (DISPLAY and WAYLAND_DISPLAY are not set)")
			}
			cmds = [][]string{{"xdg-open", url}}
		}
	}
	var errs []error
	for _, c := range cmds {
		err := run(ctx, c)
		if err == nil {
			return nil
		}
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// run starts an opener and waits for it at most browserWait; the URL is
// not part of errors (it holds the PKCE challenge and state).
func run(ctx context.Context, argv []string) error {
	cmd := exec.Command(argv[0], argv[1:]...)
	if err := cmd.Start(); err != nil {
		return err // names the program, not its arguments
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t := time.NewTimer(browserWait)
	defer t.Stop()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("%s: %v", argv[0], err)
		}
		return nil
	case <-t.C:
		return nil // still running: a browser that does not detach
	case <-ctx.Done():
		return ctx.Err()
	}
}
