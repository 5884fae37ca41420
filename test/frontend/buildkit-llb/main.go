// Prints the op digests of the LLB BuildKit's dockerfile2llb makes for a Dockerfile on stdin, as
// test/frontend/buildkit-parity/*/buildkit.json holds them: built on linux/amd64 for linux/amd64, or
// for the target platform LLB_TARGET names (e.g. linux/arm/v7), every base image resolved to a
// config with one layer and no settings, no build arguments (run by write-case.sh).
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/containerd/platforms"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/dockerfile/dockerfile2llb"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/solver/pb"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

type resolver struct{}

func (resolver) ResolveImageConfig(ctx context.Context, ref string, opt sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	cfg := map[string]any{"architecture": "amd64", "os": "linux", "rootfs": map[string]any{"type": "layers", "diff_ids": []string{"sha256:" + fmt.Sprintf("%064d", 0)}}}
	dt, _ := json.Marshal(cfg)
	return ref, "", dt, nil
}

func main() {
	df, _ := io.ReadAll(os.Stdin)
	caps := pb.Caps.CapSet(pb.Caps.All())
	target := ocispecs.Platform{OS: "linux", Architecture: "amd64"}
	if spec := os.Getenv("LLB_TARGET"); spec != "" {
		p, err := platforms.Parse(spec)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		target = platforms.Normalize(p)
	}
	res, err := dockerfile2llb.Dockerfile2LLB(context.TODO(), df, dockerfile2llb.ConvertOpt{
		MetaResolver:   resolver{},
		LLBCaps:        &caps,
		TargetPlatform: &target,
		Config:         dockerui.Config{BuildPlatforms: []ocispecs.Platform{{OS: "linux", Architecture: "amd64"}}},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	def, err := res.State.Marshal(context.TODO(), llb.LinuxAmd64)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	ops := []string{}
	for _, dt := range def.Def {
		ops = append(ops, digest.FromBytes(dt).String())
	}
	result := map[string]any{"ops": ops}
	if os.Getenv("LLB_TARGET") != "" {
		result["platform"] = platforms.FormatAll(target)
	}
	out, _ := json.MarshalIndent(result, "", "  ")
	fmt.Println(string(out))
}
