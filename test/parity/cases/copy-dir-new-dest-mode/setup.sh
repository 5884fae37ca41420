# git keeps no directory modes: make them group-writable, as a checkout with umask 002 does.
chmod 0775 dir dir/sub
chmod 0664 dir/sub/f
