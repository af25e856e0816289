package b24sim

func reg(m map[string]*method, name string, fn func(*call) (reply, error)) {
	m[name] = &method{name: name, fn: fn}
}

func regOpt(m map[string]*method, name string, fn func(*call) (reply, error), opt func(*method)) {
	x := &method{name: name, fn: fn}
	opt(x)
	m[name] = x
}

// buildMethods registers every REST method (lower-case names).
func buildMethods() map[string]*method {
	m := map[string]*method{}
	entityMethods(m)
	statusMethods(m)
	activityMethods(m)
	duplicateMethods(m)
	userMethods(m)
	telephonyMethods(m)
	eventMethods(m)
	regOpt(m, "batch", (*call).batch, func(x *method) { x.unlocked, x.noBatch = true, true })
	return m
}
