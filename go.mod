module github.com/trailwatch/trailwatch

go 1.26.8

require (
	github.com/klauspost/compress v1.20.3 // indirect
	go.yaml.in/yaml/v3 v3.0.4 // indirect
)
