package store

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/trailwatch/trailwatch/internal/alarm"
)

// AppendBucketKey appends e to a bucket's keys: a JSON array [key, value] and a
// newline.
func AppendBucketKey(b []byte, e alarm.EventValue) []byte {
	b = append(b, '[')
	kj, _ := json.Marshal(e.Key) // a string always encodes
	b = append(b, kj...)
	b = append(b, ',')
	b = strconv.AppendFloat(b, e.Value, 'g', -1, 64)
	return append(b, "]\n"...)
}

// ParseBucketKeys reads the keys AppendBucketKey wrote, the first
// KeysPerBucket of them (both stores keep a bucket's event keys so).
func ParseBucketKeys(s string) ([]alarm.EventValue, error) {
	var out []alarm.EventValue
	for line := range strings.SplitSeq(s, "\n") {
		if line == "" {
			continue
		}
		if len(out) == KeysPerBucket {
			break
		}
		// [key,value], as AppendBucketKey writes it.
		comma := strings.LastIndexByte(line, ',')
		if len(line) < 5 || line[0] != '[' || line[len(line)-1] != ']' || comma < 3 {
			return nil, fmt.Errorf("bad key line %q", line)
		}
		v, err := strconv.ParseFloat(line[comma+1:len(line)-1], 64)
		if err != nil {
			return nil, err
		}
		k := line[2 : comma-1]
		if strings.IndexByte(k, '\\') >= 0 {
			if err := json.Unmarshal([]byte(line[1:comma]), &k); err != nil {
				return nil, err
			}
		}
		out = append(out, alarm.EventValue{Key: k, Value: v})
	}
	return out, nil
}
