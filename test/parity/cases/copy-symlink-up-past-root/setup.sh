echo host > ../outside
