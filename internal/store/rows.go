package store

import (
	"fmt"
	"time"

	"github.com/trailwatch/trailwatch/internal/alarm"
)

// Rows is what both stores' query results offer (database/sql's *Rows and
// pgx's Rows alike), for the readers both share.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

// ReadAttemptLogs appends to the Log of a's deliveries the attempts read
// from rows, whose columns are delivery ID, N, at and next attempt (Unix
// nanoseconds; next NULL or 0 for none), outcome and error, each
// delivery's in order. Rows of other deliveries are skipped.
func ReadAttemptLogs(a *AlertRow, rows Rows) error {
	idx := make(map[string]int, len(a.Deliveries))
	for i := range a.Deliveries {
		idx[a.Deliveries[i].ID] = i
	}
	for rows.Next() {
		var (
			did     string
			at      int64
			next    *int64
			attempt Attempt
		)
		if err := rows.Scan(&did, &attempt.N, &at, &attempt.Outcome, &attempt.Error, &next); err != nil {
			return fmt.Errorf("attempt log: %w", err)
		}
		attempt.At = time.Unix(0, at).UTC()
		if next != nil && *next != 0 {
			attempt.NextAt = time.Unix(0, *next).UTC()
		}
		if i, ok := idx[did]; ok {
			a.Deliveries[i].Log = append(a.Deliveries[i].Log, attempt)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("attempt log: %w", err)
	}
	return nil
}

// AlarmSnapshotColumns are the columns ReadAlarmSnapshots reads, from the
// stores' alarms table.
const AlarmSnapshotColumns = `name, state, reason, reason_data, updated, actions_enabled`

// ReadAlarmSnapshots reads rows of AlarmSnapshotColumns (updated in Unix
// nanoseconds).
func ReadAlarmSnapshots(rows Rows) ([]AlarmSnapshot, error) {
	var out []AlarmSnapshot
	for rows.Next() {
		var (
			sn      AlarmSnapshot
			state   string
			updated int64
		)
		if err := rows.Scan(&sn.Name, &state, &sn.Reason, &sn.ReasonData, &updated, &sn.ActionsEnabled); err != nil {
			return nil, fmt.Errorf("store alarm snapshots: %w", err)
		}
		sn.State, sn.Updated = alarm.State(state), time.Unix(0, updated).UTC()
		out = append(out, sn)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store alarm snapshots: %w", err)
	}
	return out, nil
}
