module golang.org/x/term
