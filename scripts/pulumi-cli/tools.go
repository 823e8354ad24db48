//go:build tools

// Package tools pins the Pulumi CLI main package in go.mod/go.sum.
// It is never compiled; scripts/pulumi-cli.sh builds the packages listed here.
package tools

import (
	_ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
)
