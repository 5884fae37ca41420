#!/bin/sh
echo "$GREETING @NAME@, $*!"
