# A file next to the context, where the link points: it must not be read.
echo host > ../outside
