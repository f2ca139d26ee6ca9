package awstest

import (
	"context"
	"errors"
	"sort"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/account"
	"github.com/aws/aws-sdk-go-v2/service/account/types"
	"github.com/aws/smithy-go"
)

func TestAccountListRegions(t *testing.T) {
	t.Parallel()
	acc := &Account{Regions: map[string]string{
		"us-east-1": "ENABLED_BY_DEFAULT", "us-east-2": "ENABLED_BY_DEFAULT", "eu-north-1": "ENABLED_BY_DEFAULT",
		"ap-southeast-2": "ENABLED_BY_DEFAULT", "af-south-1": "ENABLED", "me-south-1": "DISABLED", "ap-east-1": "ENABLING",
	}}
	c := account.NewFromConfig(Config(Start(t, acc), "us-east-1"))
	var got []string
	p := account.NewListRegionsPaginator(c, &account.ListRegionsInput{
		MaxResults:              aws.Int32(2),
		RegionOptStatusContains: []types.RegionOptStatus{types.RegionOptStatusEnabled, types.RegionOptStatusEnabledByDefault},
	})
	pages := 0
	for p.HasMorePages() {
		out, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, r := range out.Regions {
			got = append(got, aws.ToString(r.RegionName))
		}
	}
	want := []string{"af-south-1", "ap-southeast-2", "eu-north-1", "us-east-1", "us-east-2"}
	if !sort.StringsAreSorted(got) || len(got) != len(want) || pages != 3 {
		t.Fatalf("got %v in %d pages, want %v in 3", got, pages, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
	_, err := c.ListRegions(context.Background(), &account.ListRegionsInput{MaxResults: aws.Int32(51)})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "ValidationException" {
		t.Errorf("MaxResults 51: %v", err)
	}
}
