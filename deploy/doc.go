// Package deploy holds Taskmind's operator files (the Kubernetes manifests
// under kubernetes/, Prometheus configuration and alert rules under
// prometheus/, the Grafana dashboard under grafana/) and the tests that keep
// them, the Dockerfile, docker-compose.yml and render.yaml valid without a
// Docker engine or a cluster. README.md describes how to deploy.
//
// Its one exported function, Expressions, hands every PromQL expression of
// the dashboard and the alert rules to tests that evaluate them against a
// Prometheus scraping a running Taskmind.
package deploy
