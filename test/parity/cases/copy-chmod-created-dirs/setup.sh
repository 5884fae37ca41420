chmod 0775 dir dir/sub
chmod 0664 dir/sub/f f
