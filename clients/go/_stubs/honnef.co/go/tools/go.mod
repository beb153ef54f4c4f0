module honnef.co/go/tools
