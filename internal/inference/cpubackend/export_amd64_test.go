package cpubackend

func setFMA(on bool) { haveFMA = on }
