#pragma once
// Every page of vaani-admin (one header each, named after the class), for the main window and the tests.

#include "adminpage.h"
#include "auditpage.h"
#include "callspage.h"
#include "customerspage.h"
#include "dashboardpage.h"
#include "livecallspage.h"
#include "orderspage.h"
#include "promptspage.h"
#include "staffpage.h"
#include "ticketspage.h"
