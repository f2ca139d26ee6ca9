package schedule_test

import (
	"fmt"
	"time"

	"github.com/trailwatch/trailwatch/internal/schedule"
)

func ExampleParse() {
	// 02:30 every day in Los Angeles: 10 March 2024 has no 02:30, so that
	// day is skipped, as EventBridge Scheduler does.
	la, _ := time.LoadLocation("America/Los_Angeles")
	s, err := schedule.Parse("cron(30 2 * * ? *)", la)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, t := range schedule.NextN(s, time.Date(2024, 3, 9, 0, 0, 0, 0, time.UTC), 3) {
		fmt.Println(t.Format(time.RFC3339), t.In(la).Format("Mon 15:04 MST"))
	}
	// Output:
	// 2024-03-09T10:30:00Z Sat 02:30 PST
	// 2024-03-11T09:30:00Z Mon 02:30 PDT
	// 2024-03-12T09:30:00Z Tue 02:30 PDT
}

func ExampleParseWith() {
	// Scheduled rules insist on the singular for 1; Scheduler does not.
	_, err := schedule.ParseWith("rate(1 days)", nil, schedule.Options{Flavour: schedule.Rule})
	fmt.Println(err)
	fmt.Println(err.(*schedule.Error).AWSMessage())
	_, err = schedule.ParseWith("rate(1 days)", nil, schedule.Options{Flavour: schedule.Scheduler})
	fmt.Println(err)
	// Output:
	// invalid schedule expression "rate(1 days)": column 8: rate unit must be singular for a value of 1: rate(1 day)
	// Parameter ScheduleExpression is not valid.
	// <nil>
}

func ExampleWindow() {
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	w, _ := schedule.ParseWindow("MON-FRI", "09:00", "18:00", tokyo)
	friday := time.Date(2024, 6, 14, 17, 0, 0, 0, tokyo)
	fmt.Println(w.Contains(friday))
	fmt.Println(w.NextChange(friday).In(tokyo).Format("Mon 15:04"))
	fmt.Println(w.NextChange(w.NextChange(friday)).In(tokyo).Format("Mon 15:04"))
	// Output:
	// true
	// Fri 18:00
	// Mon 09:00
}
