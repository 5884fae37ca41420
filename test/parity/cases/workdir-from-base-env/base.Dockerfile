FROM kiln.local/busybox
ENV GOPATH=/go
