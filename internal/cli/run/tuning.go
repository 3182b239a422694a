package run

import (
	"strconv"
	"time"
)

// EnvQueueHintAfter is a test and tuning knob, not a user setting: how long
// a run may wait in queuing, plan_queued or apply_queued before the command
// looks up and prints why (a Go duration such as "2s"; default 10s). Tests
// set it to a few milliseconds; an installation whose runners are always
// slow to start may raise it. Invalid or non-positive values are ignored.
const EnvQueueHintAfter = "THARSIS_QUEUE_HINT_AFTER"

// queueHintAfter reads EnvQueueHintAfter; 0 selects the engine's default.
func queueHintAfter(getenv func(string) string) time.Duration {
	if getenv == nil {
		return 0
	}
	d, err := time.ParseDuration(getenv(EnvQueueHintAfter))
	if err != nil || d <= 0 {
		return 0
	}
	return d
}

// EnvNoSubscriptions, set to a true value, makes the run commands poll
// instead of subscribing over websockets: for proxies that break them.
const EnvNoSubscriptions = "THARSIS_NO_SUBSCRIPTIONS"

// noSubscriptions reads EnvNoSubscriptions.
func noSubscriptions(getenv func(string) string) bool {
	if getenv == nil {
		return false
	}
	b, err := strconv.ParseBool(getenv(EnvNoSubscriptions))
	return err == nil && b
}
