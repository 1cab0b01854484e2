"""The handlers of `dvcwatch` commands, by what they are about."""
