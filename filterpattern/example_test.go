package filterpattern_test

import (
	"fmt"

	"github.com/trailwatch/trailwatch/filterpattern"
)

func Example() {
	p, err := filterpattern.Parse(`{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") && ($.userIdentity.type = "IAMUser") && ($.responseElements.ConsoleLogin = "Success") }`)
	if err != nil {
		panic(err)
	}
	record := []byte(`{"eventName":"ConsoleLogin","userIdentity":{"type":"IAMUser","userName":"alice"},"responseElements":{"ConsoleLogin":"Success"},"additionalEventData":{"MFAUsed":"No"}}`)
	m, ok := p.Match(record)
	fmt.Println(p.Kind(), ok)
	user, _ := m.Field("$.userIdentity.userName")
	fmt.Println(user)
	// Output:
	// JSON true
	// alice
}

func ExamplePattern_Match_spaceDelimited() {
	p := filterpattern.MustParse(`[ip, user, username, timestamp, request = *html*, status_code = 4*, bytes > 1000]`)
	m, ok := p.Match([]byte(`127.0.0.1 Prod frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534`))
	fmt.Println(ok)
	req, _ := m.Field("$request")
	fmt.Println(req)
	v, _ := filterpattern.MetricValue("$bytes", m)
	fmt.Println(v)
	// Output:
	// true
	// GET /index.html HTTP/1.0
	// 1534
}

func ExamplePattern_Match_terms() {
	p := filterpattern.MustParse(`ERROR -ARGUMENTS`)
	for _, line := range []string{"[ERROR 400] BAD REQUEST", "[ERROR 419] MISSING ARGUMENTS", "[INFO] OK"} {
		_, ok := p.Match([]byte(line))
		fmt.Println(ok, line)
	}
	// Output:
	// true [ERROR 400] BAD REQUEST
	// false [ERROR 419] MISSING ARGUMENTS
	// false [INFO] OK
}

func ExampleParse_error() {
	_, err := filterpattern.Parse(`{ $.latency > fast }`)
	fmt.Println(err)
	// Output:
	// invalid filter pattern: column 15: operator > needs a number, got "fast"
}

func ExampleSet() {
	set := filterpattern.NewSet(
		filterpattern.MustParse(`{($.eventName=CreateTrail) || ($.eventName=UpdateTrail) || ($.eventName=DeleteTrail) || ($.eventName=StartLogging) || ($.eventName=StopLogging)}`),
		filterpattern.MustParse(`{($.errorCode="*UnauthorizedOperation") || ($.errorCode="AccessDenied*")}`),
	)
	fmt.Println(set.Match([]byte(`{"eventName":"StopLogging","errorCode":"AccessDenied"}`), nil))
	// Output:
	// [0 1]
}
