<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="hi_IN">
<context>
    <name>vaani::admin::AdminPage</name>
    <message>
        <location filename="../gui/admin/adminpage.cpp" line="35"/>
        <source>You have unsaved changes. Save them?</source>
        <translation>आपके बदलाव अभी सहेजे नहीं गए हैं। क्या उन्हें सहेजें?</translation>
    </message>
    <message>
        <location filename="../gui/admin/adminpage.cpp" line="112"/>
        <source>Someone else changed this record in the meantime. It has been reloaded; please check and try again.</source>
        <translation>इस बीच किसी और ने यह रिकॉर्ड बदल दिया है। इसे दोबारा लोड किया गया है; कृपया देखकर फिर से कोशिश करें।</translation>
    </message>
    <message>
        <location filename="../gui/admin/adminpage.cpp" line="117"/>
        <source>The database is not reachable. Nothing was saved; try again in a moment.</source>
        <translation>डेटाबेस तक पहुँच नहीं हो पा रही है। कुछ भी सहेजा नहीं गया; थोड़ी देर में फिर कोशिश करें।</translation>
    </message>
    <message>
        <location filename="../gui/admin/adminpage.cpp" line="120"/>
        <source>That would duplicate an existing record (for example the same phone number).</source>
        <translation>इससे एक मौजूदा रिकॉर्ड दोहराया जाएगा (जैसे वही फ़ोन नंबर)।</translation>
    </message>
    <message>
        <location filename="../gui/admin/adminpage.cpp" line="123"/>
        <source>The database refused this for your role (%1). Nothing was changed.</source>
        <translation>डेटाबेस ने आपकी भूमिका (%1) के लिए इसे अस्वीकार कर दिया। कुछ नहीं बदला गया।</translation>
    </message>
</context>
<context>
    <name>vaani::admin::AuditPage</name>
    <message>
        <location filename="../gui/admin/auditpage.cpp" line="18"/>
        <source>When</source>
        <translation>कब</translation>
    </message>
    <message>
        <location filename="../gui/admin/auditpage.cpp" line="22"/>
        <source>Who</source>
        <translation>किसने</translation>
    </message>
    <message>
        <location filename="../gui/admin/auditpage.cpp" line="23"/>
        <source>Action</source>
        <translation>कार्य</translation>
    </message>
    <message>
        <location filename="../gui/admin/auditpage.cpp" line="24"/>
        <source>Record</source>
        <translation>रिकॉर्ड</translation>
    </message>
    <message>
        <location filename="../gui/admin/auditpage.cpp" line="25"/>
        <source>Change (old → new)</source>
        <translation>बदलाव (पुराना → नया)</translation>
    </message>
    <message>
        <location filename="../gui/admin/auditpage.cpp" line="29"/>
        <source>Filter by person, action or record</source>
        <translation>व्यक्ति, कार्य या रिकॉर्ड से छाँटें</translation>
    </message>
    <message numerus="yes">
        <location filename="../gui/admin/auditpage.cpp" line="53"/>
        <source>%n entries (newest first, up to 2,000).</source>
        <translation>
            <numerusform>%n प्रविष्टि (नई पहले, 2,000 तक)।</numerusform>
            <numerusform>%n प्रविष्टियाँ (नई पहले, 2,000 तक)।</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>vaani::admin::CallsPage</name>
    <message>
        <location filename="../gui/admin/callspage.cpp" line="28"/>
        <source>Started</source>
        <translation>शुरू</translation>
    </message>
    <message>
        <location filename="../gui/admin/callspage.cpp" line="29"/>
        <location filename="../gui/admin/callspage.cpp" line="189"/>
        <source>Caller</source>
        <translation>कॉलर</translation>
    </message>
    <message>
        <location filename="../gui/admin/callspage.cpp" line="30"/>
        <source>Duration</source>
        <translation>अवधि</translation>
    </message>
    <message>
        <location filename="../gui/admin/callspage.cpp" line="31"/>
        <source>Outcome</source>
        <translation>नतीजा</translation>
    </message>
    <message>
        <location filename="../gui/admin/callspage.cpp" line="32"/>
        <source>Turns</source>
        <translation>बारी</translation>
    </message>
    <message>
        <location filename="../gui/admin/callspage.cpp" line="34"/>
        <source>Cost (USD)</source>
        <translation>लागत (USD)</translation>
    </message>
    <message>
        <location filename="../gui/admin/callspage.cpp" line="36"/>
        <source>Prompt</source>
        <translation>प्रॉम्प्ट</translation>
    </message>
    <message>
        <location filename="../gui/admin/callspage.cpp" line="38"/>
        <source>Call SID</source>
        <translation>कॉल SID</translation>
    </message>
    <message>
        <location filename="../gui/admin/callspage.cpp" line="48"/>
        <source>Caller&apos;s last 4 digits</source>
        <translation>कॉलर के आख़िरी 4 अंक</translation>
    </message>
    <message>
        <location filename="../gui/admin/callspage.cpp" line="51"/>
        <source>Any outcome</source>
        <translation>कोई भी नतीजा</translation>
    </message>
    <message>
        <location filename="../gui/admin/callspage.cpp" line="57"/>
        <source>With or without ticket</source>
        <translation>टिकट के साथ या बिना</translation>
    </message>
    <message>
        <location filename="../gui/admin/callspage.cpp" line="58"/>
        <source>Opened a ticket</source>
        <translation>टिकट खोला गया</translation>
    </message>
    <message>
        <location filename="../gui/admin/callspage.cpp" line="59"/>
        <source>No ticket</source>
        <translation>कोई टिकट नहीं</translation>
    </message>
    <message>
        <location filename="../gui/admin/callspage.cpp" line="61"/>
        <source>From</source>
        <translation>से</translation>
    </message>
    <message>
        <location filename="../gui/admin/callspage.cpp" line="63"/>
        <source>to</source>
        <translation>तक</translation>
    </message>
    <message>
        <location filename="../gui/admin/callspage.cpp" line="72"/>
        <source>Select a call.</source>
        <translation>एक कॉल चुनें।</translation>
    </message>
    <message>
        <location filename="../gui/admin/callspage.cpp" line="101"/>
        <source>Tool</source>
        <translation>टूल</translation>
    </message>
    <message>
        <location filename="../gui/admin/callspage.cpp" line="102"/>
        <source>OK</source>
        <translation>सफल</translation>
    </message>
    <message>
        <location filename="../gui/admin/callspage.cpp" line="102"/>
        <source>yes</source>
        <translation>हाँ</translation>
    </message>
    <message>
        <location filename="../gui/admin/callspage.cpp" line="102"/>
        <source>no</source>
        <translation>नहीं</translation>
    </message>
    <message>
        <location filename="../gui/admin/callspage.cpp" line="103"/>
        <source>ms</source>
        <translation>मि.से.</translation>
    </message>
    <message>
        <location filename="../gui/admin/callspage.cpp" line="105"/>
        <source>Arguments</source>
        <translation>आर्ग्युमेंट</translation>
    </message>
    <message>
        <location filename="../gui/admin/callspage.cpp" line="106"/>
        <source>Result</source>
        <translation>परिणाम</translation>
    </message>
    <message>
        <location filename="../gui/admin/callspage.cpp" line="153"/>
        <source>The database is not reachable.</source>
        <translation>डेटाबेस तक पहुँच नहीं हो पा रही है।</translation>
    </message>
    <message>
        <location filename="../gui/admin/callspage.cpp" line="189"/>
        <source>Agent</source>
        <translation>एजेंट</translation>
    </message>
    <message>
        <location filename="../gui/admin/callspage.cpp" line="189"/>
        <source>System</source>
        <translation>सिस्टम</translation>
    </message>
    <message>
        <location filename="../gui/admin/callspage.cpp" line="201"/>
        <source> (interrupted)</source>
        <translation> (बीच में रोका गया)</translation>
    </message>
    <message>
        <location filename="../gui/admin/callspage.cpp" line="232"/>
        <source>Recordings: %1</source>
        <translation>रिकॉर्डिंग: %1</translation>
    </message>
    <message>
        <location filename="../gui/admin/callspage.cpp" line="237"/>
        <source>This call was not recorded.</source>
        <translation>यह कॉल रिकॉर्ड नहीं हुई थी।</translation>
    </message>
    <message>
        <location filename="../gui/admin/callspage.cpp" line="241"/>
        <source>The caller declined recording: nothing was kept.</source>
        <translation>कॉलर ने रिकॉर्डिंग से मना किया: कुछ भी नहीं रखा गया।</translation>
    </message>
    <message>
        <location filename="../gui/admin/callspage.cpp" line="245"/>
        <source>The recording was erased (retention period or the caller&apos;s erasure).</source>
        <translation>रिकॉर्डिंग मिटा दी गई (रिटेंशन अवधि या कॉलर के अनुरोध पर)।</translation>
    </message>
    <message>
        <location filename="../gui/admin/callspage.cpp" line="253"/>
        <source>Caller: </source>
        <translation>कॉलर: </translation>
    </message>
    <message>
        <location filename="../gui/admin/callspage.cpp" line="253"/>
        <source>Agent: </source>
        <translation>एजेंट: </translation>
    </message>
    <message>
        <location filename="../gui/admin/callspage.cpp" line="261"/>
        <source>Tool %1 (%2 ms)</source>
        <translation>टूल %1 (%2 ms)</translation>
    </message>
    <message>
        <location filename="../gui/admin/callspage.cpp" line="265"/>
        <source>Turn %1: answered in %2 ms</source>
        <translation>बारी %1: %2 ms में जवाब</translation>
    </message>
    <message>
        <location filename="../gui/admin/callspage.cpp" line="303"/>
        <source>Transcripts and tool calls: %1</source>
        <translation>ट्रांसक्रिप्ट और टूल कॉल: %1</translation>
    </message>
    <message>
        <location filename="../gui/admin/callspage.cpp" line="206"/>
        <source>&lt;i&gt;No transcript.&lt;/i&gt;</source>
        <translation>&lt;i&gt;कोई ट्रांसक्रिप्ट नहीं।&lt;/i&gt;</translation>
    </message>
    <message>
        <location filename="../gui/admin/callspage.cpp" line="326"/>
        <source>&lt;b&gt;%1&lt;/b&gt; · %2 · %3&lt;br&gt;Tokens in %4 (audio %5), out %6 (audio %7) · cost $%8&lt;br&gt;First greeting audio: %9 ms · turn latency median %10 ms, p95 %11 ms · per turn: %12&lt;br&gt;%13</source>
        <translation>&lt;b&gt;%1&lt;/b&gt; · %2 · %3&lt;br&gt;टोकन अंदर %4 (ऑडियो %5), बाहर %6 (ऑडियो %7) · लागत $%8&lt;br&gt;पहला अभिवादन ऑडियो: %9 मि.से. · बारी की देरी माध्यिका %10 मि.से., p95 %11 मि.से. · हर बारी: %12&lt;br&gt;%13</translation>
    </message>
    <message>
        <location filename="../gui/admin/callspage.cpp" line="340"/>
        <source>Linked: %1</source>
        <translation>जुड़े हुए: %1</translation>
    </message>
</context>
<context>
    <name>vaani::admin::CustomersPage</name>
    <message>
        <location filename="../gui/admin/customerspage.cpp" line="24"/>
        <source>Name</source>
        <translation>नाम</translation>
    </message>
    <message>
        <location filename="../gui/admin/customerspage.cpp" line="25"/>
        <source>Phone</source>
        <translation>फ़ोन</translation>
    </message>
    <message>
        <location filename="../gui/admin/customerspage.cpp" line="26"/>
        <source>E-mail</source>
        <translation>ई-मेल</translation>
    </message>
    <message>
        <location filename="../gui/admin/customerspage.cpp" line="27"/>
        <source>City</source>
        <translation>शहर</translation>
    </message>
    <message>
        <location filename="../gui/admin/customerspage.cpp" line="28"/>
        <source>Since</source>
        <translation>कब से</translation>
    </message>
    <message>
        <location filename="../gui/admin/customerspage.cpp" line="32"/>
        <source>Search by name, phone, e-mail or city</source>
        <translation>नाम, फ़ोन, ई-मेल या शहर से खोजें</translation>
    </message>
    <message>
        <location filename="../gui/admin/customerspage.cpp" line="43"/>
        <source>&amp;Save</source>
        <translation>सहेजें(&amp;S)</translation>
    </message>
    <message>
        <location filename="../gui/admin/customerspage.cpp" line="45"/>
        <source>&amp;New customer</source>
        <translation>नया ग्राहक(&amp;N)</translation>
    </message>
    <message>
        <location filename="../gui/admin/customerspage.cpp" line="50"/>
        <source>&amp;Name</source>
        <translation>नाम(&amp;N)</translation>
    </message>
    <message>
        <location filename="../gui/admin/customerspage.cpp" line="51"/>
        <source>&amp;Phone</source>
        <translation>फ़ोन(&amp;P)</translation>
    </message>
    <message>
        <location filename="../gui/admin/customerspage.cpp" line="52"/>
        <source>&amp;E-mail</source>
        <translation>ई-मेल(&amp;E)</translation>
    </message>
    <message>
        <location filename="../gui/admin/customerspage.cpp" line="53"/>
        <source>&amp;City</source>
        <translation>शहर(&amp;C)</translation>
    </message>
    <message>
        <location filename="../gui/admin/customerspage.cpp" line="82"/>
        <source>Full numbers and customer changes: %1</source>
        <translation>पूरे नंबर और ग्राहक बदलाव: %1</translation>
    </message>
    <message>
        <location filename="../gui/admin/customerspage.cpp" line="135"/>
        <source>Please enter the customer&apos;s name.</source>
        <translation>कृपया ग्राहक का नाम लिखें।</translation>
    </message>
    <message>
        <location filename="../gui/admin/customerspage.cpp" line="142"/>
        <source>Please enter a valid phone number, e.g. +91 98765 43210.</source>
        <translation>कृपया सही फ़ोन नंबर लिखें, जैसे +91 98765 43210।</translation>
    </message>
    <message>
        <location filename="../gui/admin/customerspage.cpp" line="148"/>
        <source>That e-mail address is not valid.</source>
        <translation>यह ई-मेल पता सही नहीं है।</translation>
    </message>
    <message>
        <location filename="../gui/admin/customerspage.cpp" line="158"/>
        <source>Saved %1.</source>
        <translation>%1 सहेजा गया।</translation>
    </message>
</context>
<context>
    <name>vaani::admin::DashboardPage</name>
    <message>
        <location filename="../gui/admin/dashboardpage.cpp" line="118"/>
        <source>From</source>
        <translation>से</translation>
    </message>
    <message>
        <location filename="../gui/admin/dashboardpage.cpp" line="120"/>
        <source>to</source>
        <translation>तक</translation>
    </message>
    <message>
        <location filename="../gui/admin/dashboardpage.cpp" line="123"/>
        <source>7 days</source>
        <translation>7 दिन</translation>
    </message>
    <message>
        <location filename="../gui/admin/dashboardpage.cpp" line="123"/>
        <source>30 days</source>
        <translation>30 दिन</translation>
    </message>
    <message>
        <location filename="../gui/admin/dashboardpage.cpp" line="123"/>
        <source>90 days</source>
        <translation>90 दिन</translation>
    </message>
    <message>
        <location filename="../gui/admin/dashboardpage.cpp" line="140"/>
        <source>Day</source>
        <translation>दिन</translation>
    </message>
    <message>
        <location filename="../gui/admin/dashboardpage.cpp" line="141"/>
        <source>Calls</source>
        <translation>कॉल</translation>
    </message>
    <message>
        <location filename="../gui/admin/dashboardpage.cpp" line="142"/>
        <source>Resolved</source>
        <translation>हल हुए</translation>
    </message>
    <message>
        <location filename="../gui/admin/dashboardpage.cpp" line="143"/>
        <location filename="../gui/admin/dashboardpage.cpp" line="210"/>
        <source>Transferred</source>
        <translation>ट्रांसफ़र</translation>
    </message>
    <message>
        <location filename="../gui/admin/dashboardpage.cpp" line="144"/>
        <location filename="../gui/admin/dashboardpage.cpp" line="211"/>
        <source>Dropped</source>
        <translation>कटे हुए</translation>
    </message>
    <message>
        <location filename="../gui/admin/dashboardpage.cpp" line="145"/>
        <source>Greeting ms (median)</source>
        <translation>अभिवादन मि.से. (माध्यिका)</translation>
    </message>
    <message>
        <location filename="../gui/admin/dashboardpage.cpp" line="147"/>
        <source>Turn ms (median)</source>
        <translation>बारी मि.से. (माध्यिका)</translation>
    </message>
    <message>
        <location filename="../gui/admin/dashboardpage.cpp" line="149"/>
        <source>Turn ms (p95)</source>
        <translation>बारी मि.से. (p95)</translation>
    </message>
    <message>
        <location filename="../gui/admin/dashboardpage.cpp" line="151"/>
        <source>Cost (USD)</source>
        <translation>लागत (USD)</translation>
    </message>
    <message>
        <location filename="../gui/admin/dashboardpage.cpp" line="201"/>
        <source>The database is not reachable.</source>
        <translation>डेटाबेस तक पहुँच नहीं हो पा रही है।</translation>
    </message>
    <message>
        <location filename="../gui/admin/dashboardpage.cpp" line="209"/>
        <source>Resolved by the agent</source>
        <translation>एजेंट ने हल किया</translation>
    </message>
    <message>
        <location filename="../gui/admin/dashboardpage.cpp" line="212"/>
        <source>Other</source>
        <translation>अन्य</translation>
    </message>
    <message>
        <location filename="../gui/admin/dashboardpage.cpp" line="213"/>
        <location filename="../gui/admin/dashboardpage.cpp" line="328"/>
        <source>Cost per day (USD)</source>
        <translation>प्रतिदिन लागत (USD)</translation>
    </message>
    <message>
        <location filename="../gui/admin/dashboardpage.cpp" line="223"/>
        <source>First greeting (median ms)</source>
        <translation>पहला अभिवादन (माध्यिका मि.से.)</translation>
    </message>
    <message>
        <location filename="../gui/admin/dashboardpage.cpp" line="224"/>
        <source>Turn latency (median ms)</source>
        <translation>बारी की देरी (माध्यिका मि.से.)</translation>
    </message>
    <message>
        <location filename="../gui/admin/dashboardpage.cpp" line="225"/>
        <source>Turn latency (p95 ms)</source>
        <translation>बारी की देरी (p95 मि.से.)</translation>
    </message>
    <message>
        <location filename="../gui/admin/dashboardpage.cpp" line="260"/>
        <source>&lt;b&gt;%1 calls&lt;/b&gt; · resolved by the agent %2 · transferred %3 · dropped %4 · first greeting median %5 ms · turn latency median %6 ms, p95 %7 ms · cost $%8 ($%9 per call) · open tickets %10</source>
        <translation>&lt;b&gt;%1 कॉल&lt;/b&gt; · एजेंट ने हल किए %2 · ट्रांसफ़र %3 · कटे %4 · पहला अभिवादन माध्यिका %5 मि.से. · बारी की देरी माध्यिका %6 मि.से., p95 %7 मि.से. · लागत $%8 ($%9 प्रति कॉल) · खुले टिकट %10</translation>
    </message>
    <message>
        <location filename="../gui/admin/dashboardpage.cpp" line="283"/>
        <source>Calls per day</source>
        <translation>प्रतिदिन कॉल</translation>
    </message>
    <message>
        <location filename="../gui/admin/dashboardpage.cpp" line="299"/>
        <source>Latency</source>
        <translation>देरी</translation>
    </message>
    <message>
        <location filename="../gui/admin/dashboardpage.cpp" line="337"/>
        <source>Open tickets by priority</source>
        <translation>प्राथमिकता के अनुसार खुले टिकट</translation>
    </message>
</context>
<context>
    <name>vaani::admin::Labels</name>
    <message>
        <location filename="../gui/admin/mainwindow.cpp" line="41"/>
        <source>Placed</source>
        <translation>ऑर्डर हुआ</translation>
    </message>
    <message>
        <location filename="../gui/admin/mainwindow.cpp" line="42"/>
        <source>Packed</source>
        <translation>पैक हुआ</translation>
    </message>
    <message>
        <location filename="../gui/admin/mainwindow.cpp" line="43"/>
        <source>Shipped</source>
        <translation>भेजा गया</translation>
    </message>
    <message>
        <location filename="../gui/admin/mainwindow.cpp" line="44"/>
        <source>Out for delivery</source>
        <translation>डिलीवरी के लिए निकला</translation>
    </message>
    <message>
        <location filename="../gui/admin/mainwindow.cpp" line="45"/>
        <source>Delivered</source>
        <translation>डिलीवर हुआ</translation>
    </message>
    <message>
        <location filename="../gui/admin/mainwindow.cpp" line="46"/>
        <source>Cancelled</source>
        <translation>रद्द</translation>
    </message>
    <message>
        <location filename="../gui/admin/mainwindow.cpp" line="47"/>
        <source>Returned</source>
        <translation>वापस</translation>
    </message>
    <message>
        <location filename="../gui/admin/mainwindow.cpp" line="48"/>
        <source>Open</source>
        <translation>खुला</translation>
    </message>
    <message>
        <location filename="../gui/admin/mainwindow.cpp" line="49"/>
        <location filename="../gui/admin/mainwindow.cpp" line="68"/>
        <source>In progress</source>
        <translation>काम जारी</translation>
    </message>
    <message>
        <location filename="../gui/admin/mainwindow.cpp" line="50"/>
        <source>Resolved</source>
        <translation>हल हुए</translation>
    </message>
    <message>
        <location filename="../gui/admin/mainwindow.cpp" line="51"/>
        <source>Closed</source>
        <translation>बंद</translation>
    </message>
    <message>
        <location filename="../gui/admin/mainwindow.cpp" line="58"/>
        <source>Low</source>
        <translation>कम</translation>
    </message>
    <message>
        <location filename="../gui/admin/mainwindow.cpp" line="59"/>
        <source>Normal</source>
        <translation>सामान्य</translation>
    </message>
    <message>
        <location filename="../gui/admin/mainwindow.cpp" line="60"/>
        <source>High</source>
        <translation>ऊँची</translation>
    </message>
    <message>
        <location filename="../gui/admin/mainwindow.cpp" line="61"/>
        <source>Urgent</source>
        <translation>तुरंत</translation>
    </message>
    <message>
        <location filename="../gui/admin/mainwindow.cpp" line="69"/>
        <source>Resolved by the agent</source>
        <translation>एजेंट ने हल किया</translation>
    </message>
    <message>
        <location filename="../gui/admin/mainwindow.cpp" line="70"/>
        <source>Transferred</source>
        <translation>ट्रांसफ़र</translation>
    </message>
    <message>
        <location filename="../gui/admin/mainwindow.cpp" line="71"/>
        <source>Caller hung up</source>
        <translation>कॉलर ने फ़ोन रखा</translation>
    </message>
    <message>
        <location filename="../gui/admin/mainwindow.cpp" line="72"/>
        <source>Failed</source>
        <translation>विफल</translation>
    </message>
    <message>
        <location filename="../gui/admin/mainwindow.cpp" line="73"/>
        <source>Rejected (busy)</source>
        <translation>अस्वीकृत (व्यस्त)</translation>
    </message>
    <message>
        <location filename="../gui/admin/mainwindow.cpp" line="74"/>
        <source>Never connected</source>
        <translation>कभी नहीं जुड़ा</translation>
    </message>
    <message>
        <location filename="../gui/admin/mainwindow.cpp" line="75"/>
        <source>Ended by a server shutdown</source>
        <translation>सर्वर बंद होने से समाप्त</translation>
    </message>
    <message>
        <location filename="../gui/admin/mainwindow.cpp" line="76"/>
        <source>Interrupted (the server stopped)</source>
        <translation>बीच में रुकी (सर्वर बंद हो गया)</translation>
    </message>
    <message>
        <location filename="../gui/admin/mainwindow.cpp" line="77"/>
        <source>Ended at the call time limit</source>
        <translation>कॉल की समय-सीमा पर समाप्त</translation>
    </message>
    <message>
        <location filename="../gui/admin/mainwindow.cpp" line="87"/>
        <source>database owner</source>
        <translation>डेटाबेस स्वामी</translation>
    </message>
    <message>
        <location filename="../gui/admin/mainwindow.cpp" line="88"/>
        <source>owner of the local file</source>
        <translation>स्थानीय फ़ाइल के स्वामी</translation>
    </message>
    <message>
        <location filename="../gui/admin/mainwindow.cpp" line="90"/>
        <source>admin</source>
        <translation>एडमिन</translation>
    </message>
    <message>
        <location filename="../gui/admin/mainwindow.cpp" line="92"/>
        <source>supervisor</source>
        <translation>सुपरवाइज़र</translation>
    </message>
    <message>
        <location filename="../gui/admin/mainwindow.cpp" line="94"/>
        <source>agent</source>
        <translation>एजेंट</translation>
    </message>
    <message>
        <location filename="../gui/admin/mainwindow.cpp" line="96"/>
        <source>the server&apos;s account</source>
        <translation>सर्वर का खाता</translation>
    </message>
    <message>
        <location filename="../gui/admin/mainwindow.cpp" line="98"/>
        <source>no Vaani role</source>
        <translation>कोई Vaani भूमिका नहीं</translation>
    </message>
    <message>
        <location filename="../gui/admin/mainwindow.cpp" line="108"/>
        <source>Needs the %1 role (you are signed in as %2).</source>
        <translation>इसके लिए %1 भूमिका चाहिए (आप %2 के रूप में साइन इन हैं)।</translation>
    </message>
</context>
<context>
    <name>vaani::admin::LiveCallsPage</name>
    <message>
        <location filename="../gui/admin/livecallspage.cpp" line="26"/>
        <source>Caller</source>
        <translation>कॉलर</translation>
    </message>
    <message>
        <location filename="../gui/admin/livecallspage.cpp" line="27"/>
        <source>Started</source>
        <translation>शुरू</translation>
    </message>
    <message>
        <location filename="../gui/admin/livecallspage.cpp" line="28"/>
        <source>Duration</source>
        <translation>अवधि</translation>
    </message>
    <message>
        <location filename="../gui/admin/livecallspage.cpp" line="29"/>
        <source>Server</source>
        <translation>सर्वर</translation>
    </message>
    <message>
        <location filename="../gui/admin/livecallspage.cpp" line="30"/>
        <source>Last lines</source>
        <translation>आख़िरी पंक्तियाँ</translation>
    </message>
    <message>
        <location filename="../gui/admin/livecallspage.cpp" line="47"/>
        <source>Updates as calls happen (PostgreSQL notifications).</source>
        <translation>कॉल होते ही अपडेट होता है (PostgreSQL सूचनाएँ)।</translation>
    </message>
    <message>
        <location filename="../gui/admin/livecallspage.cpp" line="48"/>
        <source>Refreshed every 2 seconds.</source>
        <translation>हर 2 सेकंड में रीफ़्रेश होता है।</translation>
    </message>
    <message numerus="yes">
        <location filename="../gui/admin/livecallspage.cpp" line="49"/>
        <source>%n call(s) in progress. %1</source>
        <translation>
            <numerusform>%n कॉल चल रही है। %1</numerusform>
            <numerusform>%n कॉल चल रही हैं। %1</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../gui/admin/livecallspage.cpp" line="50"/>
        <source>No call is in progress. Calls show here while they happen, with their last lines; finished calls are in Call logs. %1</source>
        <translation>अभी कोई कॉल नहीं चल रही है। कॉल चलते समय उनकी आख़िरी पंक्तियों के साथ यहाँ दिखती हैं; पूरी हो चुकी कॉल कॉल लॉग में हैं। %1</translation>
    </message>
    <message>
        <location filename="../gui/admin/livecallspage.cpp" line="88"/>
        <source>The database is not reachable.</source>
        <translation>डेटाबेस तक पहुँच नहीं हो पा रही है।</translation>
    </message>
</context>
<context>
    <name>vaani::admin::MainWindow</name>
    <message>
        <location filename="../gui/admin/mainwindow.cpp" line="121"/>
        <source>Vaani admin</source>
        <translation>वाणी एडमिन</translation>
    </message>
    <message>
        <location filename="../gui/admin/mainwindow.cpp" line="141"/>
        <source>Dashboard</source>
        <translation>डैशबोर्ड</translation>
    </message>
    <message>
        <location filename="../gui/admin/mainwindow.cpp" line="142"/>
        <source>Live calls</source>
        <translation>चालू कॉल</translation>
    </message>
    <message>
        <location filename="../gui/admin/mainwindow.cpp" line="143"/>
        <source>Call logs</source>
        <translation>कॉल लॉग</translation>
    </message>
    <message>
        <location filename="../gui/admin/mainwindow.cpp" line="144"/>
        <source>Orders</source>
        <translation>ऑर्डर</translation>
    </message>
    <message>
        <location filename="../gui/admin/mainwindow.cpp" line="145"/>
        <source>Customers</source>
        <translation>ग्राहक</translation>
    </message>
    <message>
        <location filename="../gui/admin/mainwindow.cpp" line="146"/>
        <source>Tickets</source>
        <translation>टिकट</translation>
    </message>
    <message>
        <location filename="../gui/admin/mainwindow.cpp" line="147"/>
        <source>Agent prompts</source>
        <translation>एजेंट प्रॉम्प्ट</translation>
    </message>
    <message>
        <location filename="../gui/admin/mainwindow.cpp" line="148"/>
        <source>Audit log</source>
        <translation>ऑडिट लॉग</translation>
    </message>
    <message>
        <location filename="../gui/admin/mainwindow.cpp" line="149"/>
        <source>Staff accounts</source>
        <translation>स्टाफ़ खाते</translation>
    </message>
    <message>
        <location filename="../gui/admin/mainwindow.cpp" line="157"/>
        <source>Staff accounts exist on PostgreSQL. On this computer, access is the database file&apos;s permissions (only its owner can open it).</source>
        <translation>स्टाफ़ खाते PostgreSQL पर होते हैं। इस कंप्यूटर पर पहुँच डेटाबेस फ़ाइल की अनुमतियों से तय होती है (केवल उसका स्वामी उसे खोल सकता है)।</translation>
    </message>
    <message>
        <location filename="../gui/admin/mainwindow.cpp" line="160"/>
        <source>The staff roles are not set up on this database (see docs/security.md).</source>
        <translation>इस डेटाबेस पर स्टाफ़ भूमिकाएँ सेट नहीं हैं (docs/security.md देखें)।</translation>
    </message>
    <message>
        <location filename="../gui/admin/mainwindow.cpp" line="207"/>
        <source>&amp;File</source>
        <translation>फ़ाइल(&amp;F)</translation>
    </message>
    <message>
        <location filename="../gui/admin/mainwindow.cpp" line="208"/>
        <source>&amp;Export table as CSV…</source>
        <translation>तालिका CSV में निर्यात करें…(&amp;E)</translation>
    </message>
    <message>
        <location filename="../gui/admin/mainwindow.cpp" line="210"/>
        <source>Export CSV</source>
        <translation>CSV निर्यात</translation>
    </message>
    <message>
        <location filename="../gui/admin/mainwindow.cpp" line="210"/>
        <source>CSV files (*.csv)</source>
        <translation>CSV फ़ाइलें (*.csv)</translation>
    </message>
    <message>
        <location filename="../gui/admin/mainwindow.cpp" line="215"/>
        <source>Could not export: %1</source>
        <translation>निर्यात नहीं हो सका: %1</translation>
    </message>
    <message>
        <location filename="../gui/admin/mainwindow.cpp" line="217"/>
        <source>Exported to %1</source>
        <translation>%1 में निर्यात किया गया</translation>
    </message>
    <message>
        <location filename="../gui/admin/mainwindow.cpp" line="224"/>
        <source>Exports: %1</source>
        <translation>निर्यात: %1</translation>
    </message>
    <message>
        <location filename="../gui/admin/mainwindow.cpp" line="227"/>
        <source>&amp;Connect to database…</source>
        <translation>डेटाबेस से जुड़ें…(&amp;C)</translation>
    </message>
    <message>
        <location filename="../gui/admin/mainwindow.cpp" line="231"/>
        <source>Restart vaani-admin to use %1 (it is now remembered as the default).</source>
        <translation>%1 इस्तेमाल करने के लिए vaani-admin दोबारा शुरू करें (अब यह डिफ़ॉल्ट के रूप में याद रखा गया है)।</translation>
    </message>
    <message>
        <location filename="../gui/admin/mainwindow.cpp" line="234"/>
        <source>&amp;Quit</source>
        <translation>बंद करें(&amp;Q)</translation>
    </message>
    <message>
        <location filename="../gui/admin/mainwindow.cpp" line="235"/>
        <source>&amp;View</source>
        <translation>देखें(&amp;V)</translation>
    </message>
    <message>
        <location filename="../gui/admin/mainwindow.cpp" line="237"/>
        <source>&amp;Refresh</source>
        <translation>रीफ़्रेश(&amp;R)</translation>
    </message>
    <message>
        <location filename="../gui/admin/mainwindow.cpp" line="243"/>
        <source>&amp;Settings</source>
        <translation>सेटिंग्स(&amp;S)</translation>
    </message>
    <message>
        <location filename="../gui/admin/mainwindow.cpp" line="244"/>
        <source>&amp;Language</source>
        <translation>भाषा(&amp;L)</translation>
    </message>
    <message>
        <location filename="../gui/admin/mainwindow.cpp" line="255"/>
        <source>The language changes the next time vaani-admin starts.</source>
        <translation>भाषा अगली बार vaani-admin शुरू होने पर बदलेगी।</translation>
    </message>
    <message>
        <location filename="../gui/admin/mainwindow.cpp" line="260"/>
        <source>Signed in as %1 · %2</source>
        <translation>%1 के रूप में साइन इन · %2</translation>
    </message>
    <message>
        <location filename="../gui/admin/mainwindow.cpp" line="265"/>
        <source>Database: %1</source>
        <translation>डेटाबेस: %1</translation>
    </message>
    <message>
        <location filename="../gui/admin/mainwindow.cpp" line="268"/>
        <source>%1 has no Vaani staff role on this database, so it will refuse most of what this app shows. Ask an admin for an account (agent, supervisor or admin).</source>
        <translation>%1 की इस डेटाबेस पर कोई Vaani स्टाफ़ भूमिका नहीं है, इसलिए यह ऐप जो दिखाता है उसका अधिकांश डेटाबेस अस्वीकार करेगा। किसी एडमिन से खाता माँगें (एजेंट, सुपरवाइज़र या एडमिन)।</translation>
    </message>
    <message>
        <location filename="../gui/admin/mainwindow.cpp" line="318"/>
        <source>The export was not recorded in the audit log: %1</source>
        <translation>निर्यात ऑडिट लॉग में दर्ज नहीं हुआ: %1</translation>
    </message>
    <message>
        <location filename="../gui/admin/mainwindow.cpp" line="356"/>
        <source>Connect to database</source>
        <translation>डेटाबेस से जुड़ें</translation>
    </message>
    <message>
        <location filename="../gui/admin/mainwindow.cpp" line="368"/>
        <source>sqlite:///path/to/vaani.db or postgresql://user@host:5432/vaani (TLS: add ?sslmode=verify-full&amp;sslrootcert=/path/to/ca.pem)</source>
        <translation>sqlite:///path/to/vaani.db या postgresql://user@host:5432/vaani (TLS के लिए जोड़ें: ?sslmode=verify-full&amp;sslrootcert=/path/to/ca.pem)</translation>
    </message>
    <message>
        <location filename="../gui/admin/mainwindow.cpp" line="372"/>
        <source>Database</source>
        <translation>डेटाबेस</translation>
    </message>
    <message>
        <location filename="../gui/admin/mainwindow.cpp" line="373"/>
        <source>Password</source>
        <translation>पासवर्ड</translation>
    </message>
    <message>
        <location filename="../gui/admin/main.cpp" line="70"/>
        <source>Unsaved changes</source>
        <translation>बिना सहेजे बदलाव</translation>
    </message>
    <message>
        <location filename="../gui/admin/main.cpp" line="98"/>
        <source>Cannot open the database (%1):
%2

Choose another one with File → Connect to database, or set DATABASE_URL.</source>
        <translation>डेटाबेस नहीं खुल सका (%1):
%2

फ़ाइल → डेटाबेस से जुड़ें से दूसरा चुनें, या DATABASE_URL सेट करें।</translation>
    </message>
    <message>
        <location filename="../gui/admin/main.cpp" line="106"/>
        <source>Start vaani-admin again to use the new database.</source>
        <translation>नया डेटाबेस इस्तेमाल करने के लिए vaani-admin दोबारा शुरू करें।</translation>
    </message>
</context>
<context>
    <name>vaani::admin::OrdersPage</name>
    <message>
        <location filename="../gui/admin/orderspage.cpp" line="24"/>
        <source>Order</source>
        <translation>ऑर्डर</translation>
    </message>
    <message>
        <location filename="../gui/admin/orderspage.cpp" line="25"/>
        <source>Customer</source>
        <translation>ग्राहक</translation>
    </message>
    <message>
        <location filename="../gui/admin/orderspage.cpp" line="26"/>
        <source>Status</source>
        <translation>स्थिति</translation>
    </message>
    <message>
        <location filename="../gui/admin/orderspage.cpp" line="27"/>
        <source>Items</source>
        <translation>सामान</translation>
    </message>
    <message>
        <location filename="../gui/admin/orderspage.cpp" line="28"/>
        <source>Amount</source>
        <translation>राशि</translation>
    </message>
    <message>
        <location filename="../gui/admin/orderspage.cpp" line="30"/>
        <source>Placed</source>
        <translation>ऑर्डर हुआ</translation>
    </message>
    <message>
        <location filename="../gui/admin/orderspage.cpp" line="31"/>
        <source>Expected</source>
        <translation>अनुमानित</translation>
    </message>
    <message>
        <location filename="../gui/admin/orderspage.cpp" line="32"/>
        <source>Courier</source>
        <translation>कूरियर</translation>
    </message>
    <message>
        <location filename="../gui/admin/orderspage.cpp" line="33"/>
        <source>Tracking</source>
        <translation>ट्रैकिंग</translation>
    </message>
    <message>
        <location filename="../gui/admin/orderspage.cpp" line="37"/>
        <source>Search by order ID, customer name, phone, status or tracking number</source>
        <translation>ऑर्डर ID, ग्राहक के नाम, फ़ोन, स्थिति या ट्रैकिंग नंबर से खोजें</translation>
    </message>
    <message>
        <location filename="../gui/admin/orderspage.cpp" line="40"/>
        <location filename="../gui/admin/orderspage.cpp" line="123"/>
        <source>Select an order.</source>
        <translation>एक ऑर्डर चुनें।</translation>
    </message>
    <message>
        <location filename="../gui/admin/orderspage.cpp" line="48"/>
        <source>&amp;Save status</source>
        <translation>स्थिति सहेजें(&amp;S)</translation>
    </message>
    <message>
        <location filename="../gui/admin/orderspage.cpp" line="55"/>
        <source>S&amp;tatus</source>
        <translation>स्थिति(&amp;T)</translation>
    </message>
    <message>
        <location filename="../gui/admin/orderspage.cpp" line="120"/>
        <source>Changing an order&apos;s status: %1</source>
        <translation>ऑर्डर की स्थिति बदलना: %1</translation>
    </message>
    <message>
        <location filename="../gui/admin/orderspage.cpp" line="127"/>
        <source>&lt;b&gt;%1&lt;/b&gt; — %2&lt;br&gt;%3&lt;br&gt;%4, placed %5</source>
        <translation>&lt;b&gt;%1&lt;/b&gt; — %2&lt;br&gt;%3&lt;br&gt;%4, ऑर्डर की तारीख़ %5</translation>
    </message>
    <message>
        <location filename="../gui/admin/orderspage.cpp" line="140"/>
        <source>The status is unchanged.</source>
        <translation>स्थिति नहीं बदली।</translation>
    </message>
    <message>
        <location filename="../gui/admin/orderspage.cpp" line="146"/>
        <source>An order cannot go from “%1” to “%2”.</source>
        <translation>ऑर्डर “%1” से “%2” में नहीं जा सकता।</translation>
    </message>
    <message>
        <location filename="../gui/admin/orderspage.cpp" line="157"/>
        <source>Saved: %1 is now “%2”.</source>
        <translation>सहेजा गया: %1 अब “%2” है।</translation>
    </message>
</context>
<context>
    <name>vaani::admin::PromptsPage</name>
    <message>
        <location filename="../gui/admin/promptspage.cpp" line="70"/>
        <source>&lt;p&gt;No differences.&lt;/p&gt;</source>
        <translation>&lt;p&gt;कोई अंतर नहीं।&lt;/p&gt;</translation>
    </message>
    <message>
        <location filename="../gui/admin/promptspage.cpp" line="78"/>
        <source>Name</source>
        <translation>नाम</translation>
    </message>
    <message>
        <location filename="../gui/admin/promptspage.cpp" line="79"/>
        <source>Version</source>
        <translation>संस्करण</translation>
    </message>
    <message>
        <location filename="../gui/admin/promptspage.cpp" line="81"/>
        <source>Active</source>
        <translation>सक्रिय</translation>
    </message>
    <message>
        <location filename="../gui/admin/promptspage.cpp" line="81"/>
        <source>● active</source>
        <translation>● सक्रिय</translation>
    </message>
    <message>
        <location filename="../gui/admin/promptspage.cpp" line="82"/>
        <source>Author</source>
        <translation>लेखक</translation>
    </message>
    <message>
        <location filename="../gui/admin/promptspage.cpp" line="83"/>
        <source>Saved</source>
        <translation>सहेजा गया</translation>
    </message>
    <message>
        <location filename="../gui/admin/promptspage.cpp" line="84"/>
        <source>Note</source>
        <translation>टिप्पणी</translation>
    </message>
    <message>
        <location filename="../gui/admin/promptspage.cpp" line="96"/>
        <source>Said after the greeting when the server records calls (RECORD_CALLS), asking the caller&apos;s consent. Empty: the built-in notice.</source>
        <translation>जब सर्वर कॉल रिकॉर्ड करता है (RECORD_CALLS), तो अभिवादन के बाद कॉलर की सहमति माँगने के लिए बोला जाता है। खाली: अंतर्निहित सूचना।</translation>
    </message>
    <message>
        <location filename="../gui/admin/promptspage.cpp" line="121"/>
        <source>off</source>
        <translation>बंद</translation>
    </message>
    <message>
        <location filename="../gui/admin/promptspage.cpp" line="124"/>
        <source>What changed in this version?</source>
        <translation>इस संस्करण में क्या बदला?</translation>
    </message>
    <message>
        <location filename="../gui/admin/promptspage.cpp" line="125"/>
        <source>Save as &amp;new version</source>
        <translation>नए संस्करण के रूप में सहेजें(&amp;N)</translation>
    </message>
    <message>
        <location filename="../gui/admin/promptspage.cpp" line="127"/>
        <source>&amp;Activate selected version</source>
        <translation>चुना हुआ संस्करण सक्रिय करें(&amp;A)</translation>
    </message>
    <message>
        <location filename="../gui/admin/promptspage.cpp" line="129"/>
        <source>&amp;Roll back to previous version</source>
        <translation>पिछले संस्करण पर लौटें(&amp;R)</translation>
    </message>
    <message>
        <location filename="../gui/admin/promptspage.cpp" line="133"/>
        <source>Show &amp;diff</source>
        <translation>अंतर दिखाएँ(&amp;D)</translation>
    </message>
    <message>
        <location filename="../gui/admin/promptspage.cpp" line="145"/>
        <source>Activating a version: %1</source>
        <translation>संस्करण सक्रिय करना: %1</translation>
    </message>
    <message>
        <location filename="../gui/admin/promptspage.cpp" line="150"/>
        <source>&amp;Name</source>
        <translation>नाम(&amp;N)</translation>
    </message>
    <message>
        <location filename="../gui/admin/promptspage.cpp" line="151"/>
        <source>&amp;Greeting</source>
        <translation>अभिवादन(&amp;G)</translation>
    </message>
    <message>
        <location filename="../gui/admin/promptspage.cpp" line="152"/>
        <source>&amp;Recording notice</source>
        <translation>&amp;रिकॉर्डिंग सूचना</translation>
    </message>
    <message>
        <location filename="../gui/admin/promptspage.cpp" line="153"/>
        <source>&amp;Instructions</source>
        <translation>निर्देश(&amp;I)</translation>
    </message>
    <message>
        <location filename="../gui/admin/promptspage.cpp" line="156"/>
        <source>VAD threshold</source>
        <translation>VAD सीमा</translation>
    </message>
    <message>
        <location filename="../gui/admin/promptspage.cpp" line="158"/>
        <source>prefix</source>
        <translation>शुरुआती</translation>
    </message>
    <message>
        <location filename="../gui/admin/promptspage.cpp" line="160"/>
        <source>silence</source>
        <translation>चुप्पी</translation>
    </message>
    <message>
        <location filename="../gui/admin/promptspage.cpp" line="162"/>
        <source>idle</source>
        <translation>निष्क्रिय</translation>
    </message>
    <message>
        <location filename="../gui/admin/promptspage.cpp" line="165"/>
        <source>&amp;Voice</source>
        <translation>आवाज़(&amp;V)</translation>
    </message>
    <message>
        <location filename="../gui/admin/promptspage.cpp" line="168"/>
        <source>N&amp;ote</source>
        <translation>टिप्पणी(&amp;O)</translation>
    </message>
    <message>
        <location filename="../gui/admin/promptspage.cpp" line="176"/>
        <source>Compare the editor with</source>
        <translation>संपादक की तुलना इससे करें</translation>
    </message>
    <message>
        <location filename="../gui/admin/promptspage.cpp" line="202"/>
        <source>Version %1 is now active; the next call uses it.</source>
        <translation>संस्करण %1 अब सक्रिय है; अगली कॉल इसका इस्तेमाल करेगी।</translation>
    </message>
    <message>
        <location filename="../gui/admin/promptspage.cpp" line="210"/>
        <source>Rolled back: version %1 is active again.</source>
        <translation>वापस लौटे: संस्करण %1 फिर से सक्रिय है।</translation>
    </message>
    <message>
        <location filename="../gui/admin/promptspage.cpp" line="229"/>
        <source>%1 v%2%3</source>
        <translation>%1 सं.%2%3</translation>
    </message>
    <message>
        <location filename="../gui/admin/promptspage.cpp" line="229"/>
        <source> (active)</source>
        <translation> (सक्रिय)</translation>
    </message>
    <message>
        <location filename="../gui/admin/promptspage.cpp" line="311"/>
        <source>Saved as version %1 (not active yet: activate it when ready).</source>
        <translation>संस्करण %1 के रूप में सहेजा गया (अभी सक्रिय नहीं: तैयार होने पर सक्रिय करें)।</translation>
    </message>
</context>
<context>
    <name>vaani::admin::RecordingPlayer</name>
    <message>
        <location filename="../gui/admin/recordingplayer.cpp" line="65"/>
        <source>The recording file is not here: %1. Recordings stay on the server that recorded the call; set RECORDINGS_DIR to where they are shared.</source>
        <translation>रिकॉर्डिंग फ़ाइल यहाँ नहीं है: %1। रिकॉर्डिंग उसी सर्वर पर रहती है जिसने कॉल रिकॉर्ड की; RECORDINGS_DIR को साझा स्थान पर सेट करें।</translation>
    </message>
    <message>
        <location filename="../gui/admin/recordingplayer.cpp" line="71"/>
        <source>Cannot read the recording %1: %2</source>
        <translation>रिकॉर्डिंग %1 पढ़ी नहीं जा सकी: %2</translation>
    </message>
    <message>
        <location filename="../gui/admin/recordingplayer.cpp" line="77"/>
        <location filename="../gui/admin/recordingplayer.cpp" line="82"/>
        <source>Cannot open the recording: %1</source>
        <translation>रिकॉर्डिंग खोली नहीं जा सकी: %1</translation>
    </message>
    <message>
        <location filename="../gui/admin/recordingplayer.cpp" line="191"/>
        <location filename="../gui/admin/recordingplayer.cpp" line="423"/>
        <source>Play</source>
        <translation>चलाएँ</translation>
    </message>
    <message>
        <location filename="../gui/admin/recordingplayer.cpp" line="193"/>
        <source>Export…</source>
        <translation>निर्यात…</translation>
    </message>
    <message>
        <location filename="../gui/admin/recordingplayer.cpp" line="196"/>
        <source>Save the recording as a WAV file (caller left, agent right). It holds the caller&apos;s voice: personal data.</source>
        <translation>रिकॉर्डिंग को WAV फ़ाइल के रूप में सहेजें (बाएँ कॉलर, दाएँ एजेंट)। इसमें कॉलर की आवाज़ है: व्यक्तिगत डेटा।</translation>
    </message>
    <message>
        <location filename="../gui/admin/recordingplayer.cpp" line="226"/>
        <source>Exported to %1.</source>
        <translation>%1 में निर्यात किया गया।</translation>
    </message>
    <message>
        <location filename="../gui/admin/recordingplayer.cpp" line="254"/>
        <source>Loading the recording…</source>
        <translation>रिकॉर्डिंग लोड हो रही है…</translation>
    </message>
    <message>
        <location filename="../gui/admin/recordingplayer.cpp" line="280"/>
        <source>This recording was cut short (the server stopped during the call): it plays up to where it ends.</source>
        <translation>यह रिकॉर्डिंग बीच में कट गई (कॉल के दौरान सर्वर रुक गया): जहाँ तक है वहाँ तक चलेगी।</translation>
    </message>
    <message>
        <location filename="../gui/admin/recordingplayer.cpp" line="423"/>
        <source>Pause</source>
        <translation>रोकें</translation>
    </message>
    <message>
        <location filename="../gui/admin/recordingplayer.cpp" line="428"/>
        <source>No audio output device: playing silently.</source>
        <translation>कोई ऑडियो आउटपुट डिवाइस नहीं: बिना आवाज़ के चल रही है।</translation>
    </message>
    <message>
        <location filename="../gui/admin/recordingplayer.cpp" line="436"/>
        <source>No recording to export.</source>
        <translation>निर्यात के लिए कोई रिकॉर्डिंग नहीं।</translation>
    </message>
    <message>
        <location filename="../gui/admin/recordingplayer.cpp" line="446"/>
        <source>Cannot export the recording: %1</source>
        <translation>रिकॉर्डिंग निर्यात नहीं हो सकी: %1</translation>
    </message>
    <message>
        <location filename="../gui/admin/main.cpp" line="83"/>
        <source>Export recording</source>
        <translation>रिकॉर्डिंग निर्यात करें</translation>
    </message>
    <message>
        <location filename="../gui/admin/main.cpp" line="84"/>
        <source>WAV audio (*.wav)</source>
        <translation>WAV ऑडियो (*.wav)</translation>
    </message>
</context>
<context>
    <name>vaani::admin::StaffPage</name>
    <message>
        <location filename="../gui/admin/staffpage.cpp" line="35"/>
        <source>Login</source>
        <translation>लॉगिन</translation>
    </message>
    <message>
        <location filename="../gui/admin/staffpage.cpp" line="36"/>
        <source>Role</source>
        <translation>भूमिका</translation>
    </message>
    <message>
        <location filename="../gui/admin/staffpage.cpp" line="37"/>
        <source>May sign in</source>
        <translation>साइन इन कर सकते हैं</translation>
    </message>
    <message>
        <location filename="../gui/admin/staffpage.cpp" line="38"/>
        <source>yes</source>
        <translation>हाँ</translation>
    </message>
    <message>
        <location filename="../gui/admin/staffpage.cpp" line="38"/>
        <source>no (disabled)</source>
        <translation>नहीं (बंद)</translation>
    </message>
    <message>
        <location filename="../gui/admin/staffpage.cpp" line="43"/>
        <source>e.g. priya.s</source>
        <translation>जैसे priya.s</translation>
    </message>
    <message>
        <location filename="../gui/admin/staffpage.cpp" line="51"/>
        <source>at least 12 characters; empty keeps the current one</source>
        <translation>कम से कम 12 अक्षर; खाली छोड़ें तो मौजूदा पासवर्ड रहेगा</translation>
    </message>
    <message>
        <location filename="../gui/admin/staffpage.cpp" line="52"/>
        <source>&amp;Save account</source>
        <translation>खाता &amp;सहेजें</translation>
    </message>
    <message>
        <location filename="../gui/admin/staffpage.cpp" line="54"/>
        <source>&amp;Disable sign-in</source>
        <translation>साइन इन &amp;बंद करें</translation>
    </message>
    <message>
        <location filename="../gui/admin/staffpage.cpp" line="56"/>
        <source>&amp;Enable sign-in</source>
        <translation>साइन इन &amp;चालू करें</translation>
    </message>
    <message>
        <location filename="../gui/admin/staffpage.cpp" line="60"/>
        <source>&lt;b&gt;Agent&lt;/b&gt;: orders and tickets, numbers masked, no transcripts or prompts.&lt;br&gt;&lt;b&gt;Supervisor&lt;/b&gt;: + full numbers, transcripts, order status, prompt drafts.&lt;br&gt;&lt;b&gt;Admin&lt;/b&gt;: + activating prompts, staff accounts, exports, the audit log.</source>
        <translation>&lt;b&gt;एजेंट&lt;/b&gt;: ऑर्डर और टिकट, नंबर छिपे हुए, ट्रांसक्रिप्ट या प्रॉम्प्ट नहीं।&lt;br&gt;&lt;b&gt;सुपरवाइज़र&lt;/b&gt;: + पूरे नंबर, ट्रांसक्रिप्ट, ऑर्डर की स्थिति, प्रॉम्प्ट ड्राफ़्ट।&lt;br&gt;&lt;b&gt;एडमिन&lt;/b&gt;: + प्रॉम्प्ट सक्रिय करना, स्टाफ़ खाते, निर्यात, ऑडिट लॉग।</translation>
    </message>
    <message>
        <location filename="../gui/admin/staffpage.cpp" line="69"/>
        <source>&amp;Login</source>
        <translation>&amp;लॉगिन</translation>
    </message>
    <message>
        <location filename="../gui/admin/staffpage.cpp" line="70"/>
        <source>&amp;Role</source>
        <translation>&amp;भूमिका</translation>
    </message>
    <message>
        <location filename="../gui/admin/staffpage.cpp" line="71"/>
        <source>&amp;Password</source>
        <translation>&amp;पासवर्ड</translation>
    </message>
    <message>
        <location filename="../gui/admin/staffpage.cpp" line="123"/>
        <source>Saved %1.</source>
        <translation>%1 सहेजा गया।</translation>
    </message>
    <message>
        <location filename="../gui/admin/staffpage.cpp" line="135"/>
        <source>%1 may sign in again.</source>
        <translation>%1 फिर से साइन इन कर सकते हैं।</translation>
    </message>
    <message>
        <location filename="../gui/admin/staffpage.cpp" line="136"/>
        <source>%1 can no longer sign in.</source>
        <translation>%1 अब साइन इन नहीं कर सकते।</translation>
    </message>
</context>
<context>
    <name>vaani::admin::TicketsPage</name>
    <message>
        <location filename="../gui/admin/ticketspage.cpp" line="27"/>
        <location filename="../gui/admin/ticketspage.cpp" line="61"/>
        <source>Ticket</source>
        <translation>टिकट</translation>
    </message>
    <message>
        <location filename="../gui/admin/ticketspage.cpp" line="28"/>
        <source>Status</source>
        <translation>स्थिति</translation>
    </message>
    <message>
        <location filename="../gui/admin/ticketspage.cpp" line="29"/>
        <location filename="../gui/admin/ticketspage.cpp" line="122"/>
        <source>Priority</source>
        <translation>प्राथमिकता</translation>
    </message>
    <message>
        <location filename="../gui/admin/ticketspage.cpp" line="30"/>
        <location filename="../gui/admin/ticketspage.cpp" line="121"/>
        <source>Category</source>
        <translation>श्रेणी</translation>
    </message>
    <message>
        <location filename="../gui/admin/ticketspage.cpp" line="31"/>
        <location filename="../gui/admin/ticketspage.cpp" line="123"/>
        <source>Order</source>
        <translation>ऑर्डर</translation>
    </message>
    <message>
        <location filename="../gui/admin/ticketspage.cpp" line="32"/>
        <location filename="../gui/admin/ticketspage.cpp" line="48"/>
        <source>Assignee</source>
        <translation>ज़िम्मेदार</translation>
    </message>
    <message>
        <location filename="../gui/admin/ticketspage.cpp" line="33"/>
        <source>Opened</source>
        <translation>खोला गया</translation>
    </message>
    <message>
        <location filename="../gui/admin/ticketspage.cpp" line="34"/>
        <location filename="../gui/admin/ticketspage.cpp" line="124"/>
        <source>Summary</source>
        <translation>सारांश</translation>
    </message>
    <message>
        <location filename="../gui/admin/ticketspage.cpp" line="38"/>
        <source>Any status</source>
        <translation>कोई भी स्थिति</translation>
    </message>
    <message>
        <location filename="../gui/admin/ticketspage.cpp" line="43"/>
        <source>Any priority</source>
        <translation>कोई भी प्राथमिकता</translation>
    </message>
    <message>
        <location filename="../gui/admin/ticketspage.cpp" line="51"/>
        <source>Search ticket, order or summary</source>
        <translation>टिकट, ऑर्डर या सारांश खोजें</translation>
    </message>
    <message>
        <location filename="../gui/admin/ticketspage.cpp" line="62"/>
        <source>Select a ticket.</source>
        <translation>एक टिकट चुनें।</translation>
    </message>
    <message>
        <location filename="../gui/admin/ticketspage.cpp" line="74"/>
        <source>&amp;Save changes</source>
        <translation>बदलाव सहेजें(&amp;S)</translation>
    </message>
    <message>
        <location filename="../gui/admin/ticketspage.cpp" line="78"/>
        <source>Add a note for the team…</source>
        <translation>टीम के लिए टिप्पणी जोड़ें…</translation>
    </message>
    <message>
        <location filename="../gui/admin/ticketspage.cpp" line="81"/>
        <source>Add &amp;note</source>
        <translation>टिप्पणी जोड़ें(&amp;N)</translation>
    </message>
    <message>
        <location filename="../gui/admin/ticketspage.cpp" line="85"/>
        <source>Open the call</source>
        <translation>कॉल खोलें</translation>
    </message>
    <message>
        <location filename="../gui/admin/ticketspage.cpp" line="91"/>
        <source>S&amp;tatus</source>
        <translation>स्थिति(&amp;T)</translation>
    </message>
    <message>
        <location filename="../gui/admin/ticketspage.cpp" line="92"/>
        <source>Assi&amp;gnee</source>
        <translation>ज़िम्मेदार(&amp;G)</translation>
    </message>
    <message>
        <location filename="../gui/admin/ticketspage.cpp" line="96"/>
        <source>History</source>
        <translation>इतिहास</translation>
    </message>
    <message>
        <location filename="../gui/admin/ticketspage.cpp" line="101"/>
        <source>New ticket</source>
        <translation>नया टिकट</translation>
    </message>
    <message>
        <location filename="../gui/admin/ticketspage.cpp" line="114"/>
        <source>Order ID (optional)</source>
        <translation>ऑर्डर ID (वैकल्पिक)</translation>
    </message>
    <message>
        <location filename="../gui/admin/ticketspage.cpp" line="117"/>
        <source>What is the problem?</source>
        <translation>समस्या क्या है?</translation>
    </message>
    <message>
        <location filename="../gui/admin/ticketspage.cpp" line="118"/>
        <source>&amp;Create ticket</source>
        <translation>टिकट बनाएँ(&amp;C)</translation>
    </message>
    <message>
        <location filename="../gui/admin/ticketspage.cpp" line="196"/>
        <source>&lt;b&gt;%1&lt;/b&gt; · %2 · %3</source>
        <translation>&lt;b&gt;%1&lt;/b&gt; · %2 · %3</translation>
    </message>
    <message>
        <location filename="../gui/admin/ticketspage.cpp" line="197"/>
        <source>
Order: %1</source>
        <translation>
ऑर्डर: %1</translation>
    </message>
    <message>
        <location filename="../gui/admin/ticketspage.cpp" line="212"/>
        <source>opened the ticket</source>
        <translation>ने टिकट खोला</translation>
    </message>
    <message>
        <location filename="../gui/admin/ticketspage.cpp" line="215"/>
        <source>changed status %1 → %2</source>
        <translation>ने स्थिति बदली %1 → %2</translation>
    </message>
    <message>
        <location filename="../gui/admin/ticketspage.cpp" line="217"/>
        <source>assigned to %1</source>
        <translation>ने %1 को सौंपा</translation>
    </message>
    <message>
        <location filename="../gui/admin/ticketspage.cpp" line="217"/>
        <source>nobody</source>
        <translation>किसी को नहीं</translation>
    </message>
    <message>
        <location filename="../gui/admin/ticketspage.cpp" line="219"/>
        <source>note: %1</source>
        <translation>टिप्पणी: %1</translation>
    </message>
    <message>
        <location filename="../gui/admin/ticketspage.cpp" line="254"/>
        <source>A ticket cannot go from “%1” to “%2”.</source>
        <translation>टिकट “%1” से “%2” में नहीं जा सकता।</translation>
    </message>
    <message>
        <location filename="../gui/admin/ticketspage.cpp" line="277"/>
        <source>Saved %1.</source>
        <translation>%1 सहेजा गया।</translation>
    </message>
    <message>
        <location filename="../gui/admin/ticketspage.cpp" line="296"/>
        <source>Write the note first.</source>
        <translation>पहले टिप्पणी लिखें।</translation>
    </message>
    <message>
        <location filename="../gui/admin/ticketspage.cpp" line="303"/>
        <source>Note added.</source>
        <translation>टिप्पणी जोड़ी गई।</translation>
    </message>
    <message>
        <location filename="../gui/admin/ticketspage.cpp" line="316"/>
        <source>Describe the problem in a few words.</source>
        <translation>समस्या कुछ शब्दों में बताएँ।</translation>
    </message>
    <message>
        <location filename="../gui/admin/ticketspage.cpp" line="333"/>
        <source>There is no order “%1”.</source>
        <translation>“%1” नाम का कोई ऑर्डर नहीं है।</translation>
    </message>
    <message>
        <location filename="../gui/admin/ticketspage.cpp" line="341"/>
        <source>Created %1.</source>
        <translation>%1 बनाया गया।</translation>
    </message>
</context>
</TS>
