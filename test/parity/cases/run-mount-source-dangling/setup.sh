ln -s /nonexistent dangling
