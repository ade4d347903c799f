#!/usr/bin/env python3
"""Fills translations/vaani_admin_hi.ts with the Hindi texts below (run after `cmake --build build --target
vaani_admin_core_lupdate`). Every source text must have a translation: the script fails otherwise, and so
does the test suite (tst_admin checks that no message is left unfinished)."""
import sys
import xml.etree.ElementTree as ET

HI = {
 "You have unsaved changes. Save them?": "आपके बदलाव अभी सहेजे नहीं गए हैं। क्या उन्हें सहेजें?",
 "Someone else changed this record in the meantime. It has been reloaded; please check and try again.": "इस बीच किसी और ने यह रिकॉर्ड बदल दिया है। इसे दोबारा लोड किया गया है; कृपया देखकर फिर से कोशिश करें।",
 "The database is not reachable. Nothing was saved; try again in a moment.": "डेटाबेस तक पहुँच नहीं हो पा रही है। कुछ भी सहेजा नहीं गया; थोड़ी देर में फिर कोशिश करें।",
 "That would duplicate an existing record (for example the same phone number).": "इससे एक मौजूदा रिकॉर्ड दोहराया जाएगा (जैसे वही फ़ोन नंबर)।",
 "Started": "शुरू", "Caller": "कॉलर", "Duration": "अवधि", "Outcome": "नतीजा", "Turns": "बारी", "Cost (USD)": "लागत (USD)",
 "Prompt": "प्रॉम्प्ट", "Call SID": "कॉल SID", "Caller's last 4 digits": "कॉलर के आख़िरी 4 अंक", "Any outcome": "कोई भी नतीजा",
 "With or without ticket": "टिकट के साथ या बिना", "Opened a ticket": "टिकट खोला गया", "No ticket": "कोई टिकट नहीं",
 "From": "से", "to": "तक", "Select a call.": "एक कॉल चुनें।", "Tool": "टूल", "OK": "सफल", "yes": "हाँ", "no": "नहीं",
 "ms": "मि.से.", "Arguments": "आर्ग्युमेंट", "Result": "परिणाम", "The database is not reachable.": "डेटाबेस तक पहुँच नहीं हो पा रही है।",
 "Agent": "एजेंट", "System": "सिस्टम", " (interrupted)": " (बीच में रोका गया)", "<i>No transcript.</i>": "<i>कोई ट्रांसक्रिप्ट नहीं।</i>",
 "<b>%1</b> · %2 · %3<br>Tokens in %4 (audio %5), out %6 (audio %7) · cost $%8<br>First greeting audio: %9 ms · turn latency median %10 ms, p95 %11 ms · per turn: %12<br>%13":
   "<b>%1</b> · %2 · %3<br>टोकन अंदर %4 (ऑडियो %5), बाहर %6 (ऑडियो %7) · लागत $%8<br>पहला अभिवादन ऑडियो: %9 मि.से. · बारी की देरी माध्यिका %10 मि.से., p95 %11 मि.से. · हर बारी: %12<br>%13",
 "Linked: %1": "जुड़े हुए: %1", "Name": "नाम", "Phone": "फ़ोन", "E-mail": "ई-मेल", "City": "शहर", "Since": "कब से",
 "Search by name, phone, e-mail or city": "नाम, फ़ोन, ई-मेल या शहर से खोजें", "&Save": "सहेजें(&S)",
 "&New customer": "नया ग्राहक(&N)", "&Name": "नाम(&N)", "&Phone": "फ़ोन(&P)", "&E-mail": "ई-मेल(&E)", "&City": "शहर(&C)",
 "Please enter the customer's name.": "कृपया ग्राहक का नाम लिखें।",
 "Please enter a valid phone number, e.g. +91 98765 43210.": "कृपया सही फ़ोन नंबर लिखें, जैसे +91 98765 43210।",
 "That e-mail address is not valid.": "यह ई-मेल पता सही नहीं है।", "Saved %1.": "%1 सहेजा गया।",
 "7 days": "7 दिन", "30 days": "30 दिन", "90 days": "90 दिन", "Day": "दिन", "Calls": "कॉल", "Resolved": "हल हुए",
 "Transferred": "ट्रांसफ़र", "Dropped": "कटे हुए", "Greeting ms (median)": "अभिवादन मि.से. (माध्यिका)",
 "Turn ms (median)": "बारी मि.से. (माध्यिका)", "Turn ms (p95)": "बारी मि.से. (p95)", "Resolved by the agent": "एजेंट ने हल किया",
 "Other": "अन्य", "Cost per day (USD)": "प्रतिदिन लागत (USD)", "First greeting (median ms)": "पहला अभिवादन (माध्यिका मि.से.)",
 "Turn latency (median ms)": "बारी की देरी (माध्यिका मि.से.)", "Turn latency (p95 ms)": "बारी की देरी (p95 मि.से.)",
 "<b>%1 calls</b> · resolved by the agent %2 · transferred %3 · dropped %4 · first greeting median %5 ms · turn latency median %6 ms, p95 %7 ms · cost $%8 ($%9 per call) · open tickets %10":
   "<b>%1 कॉल</b> · एजेंट ने हल किए %2 · ट्रांसफ़र %3 · कटे %4 · पहला अभिवादन माध्यिका %5 मि.से. · बारी की देरी माध्यिका %6 मि.से., p95 %7 मि.से. · लागत $%8 ($%9 प्रति कॉल) · खुले टिकट %10",
 "Calls per day": "प्रतिदिन कॉल", "Latency": "देरी", "day": "दिन", "Open tickets by priority": "प्राथमिकता के अनुसार खुले टिकट",
 "Placed": "ऑर्डर हुआ", "Packed": "पैक हुआ", "Shipped": "भेजा गया", "Out for delivery": "डिलीवरी के लिए निकला",
 "Delivered": "डिलीवर हुआ", "Cancelled": "रद्द", "Returned": "वापस", "Open": "खुला", "In progress": "काम जारी",
 "Closed": "बंद", "Low": "कम", "Normal": "सामान्य", "High": "ऊँची", "Urgent": "तुरंत",
 "Caller hung up": "कॉलर ने फ़ोन रखा", "Failed": "विफल", "Rejected (busy)": "अस्वीकृत (व्यस्त)", "Never connected": "कभी नहीं जुड़ा",
 "Server": "सर्वर", "Last lines": "आख़िरी पंक्तियाँ",
 "Updates as calls happen (PostgreSQL notifications).": "कॉल होते ही अपडेट होता है (PostgreSQL सूचनाएँ)।",
 "Refreshed every 2 seconds.": "हर 2 सेकंड में रीफ़्रेश होता है।", "Vaani admin": "वाणी एडमिन", "Dashboard": "डैशबोर्ड",
 "Live calls": "चालू कॉल", "Call logs": "कॉल लॉग", "Orders": "ऑर्डर", "Customers": "ग्राहक", "Tickets": "टिकट",
 "Agent prompts": "एजेंट प्रॉम्प्ट", "&File": "फ़ाइल(&F)", "&Export table as CSV…": "तालिका CSV में निर्यात करें…(&E)",
 "Export CSV": "CSV निर्यात", "CSV files (*.csv)": "CSV फ़ाइलें (*.csv)", "Could not export: %1": "निर्यात नहीं हो सका: %1",
 "Exported to %1": "%1 में निर्यात किया गया", "&Connect to database…": "डेटाबेस से जुड़ें…(&C)",
 "Restart vaani-admin to use %1 (it is now remembered as the default).": "%1 इस्तेमाल करने के लिए vaani-admin दोबारा शुरू करें (अब यह डिफ़ॉल्ट के रूप में याद रखा गया है)।",
 "&Quit": "बंद करें(&Q)", "&View": "देखें(&V)", "&Refresh": "रीफ़्रेश(&R)", "&Settings": "सेटिंग्स(&S)", "&Language": "भाषा(&L)",
 "The language changes the next time vaani-admin starts.": "भाषा अगली बार vaani-admin शुरू होने पर बदलेगी।",
 "Database: %1 · signed in as %2": "डेटाबेस: %1 · %2 के रूप में लॉग इन", "Connect to database": "डेटाबेस से जुड़ें",
 "sqlite:///path/to/vaani.db or postgresql://user@host:5432/vaani": "sqlite:///path/to/vaani.db या postgresql://user@host:5432/vaani",
 "Database": "डेटाबेस", "Password": "पासवर्ड", "Order": "ऑर्डर", "Customer": "ग्राहक", "Status": "स्थिति", "Items": "सामान",
 "Amount": "राशि", "Expected": "अनुमानित", "Courier": "कूरियर", "Tracking": "ट्रैकिंग",
 "Search by order ID, customer name, phone, status or tracking number": "ऑर्डर ID, ग्राहक के नाम, फ़ोन, स्थिति या ट्रैकिंग नंबर से खोजें",
 "Select an order.": "एक ऑर्डर चुनें।", "&Save status": "स्थिति सहेजें(&S)", "S&tatus": "स्थिति(&T)",
 "<b>%1</b> — %2<br>%3<br>%4, placed %5": "<b>%1</b> — %2<br>%3<br>%4, ऑर्डर की तारीख़ %5",
 "The status is unchanged.": "स्थिति नहीं बदली।", "An order cannot go from “%1” to “%2”.": "ऑर्डर “%1” से “%2” में नहीं जा सकता।",
 "Saved: %1 is now “%2”.": "सहेजा गया: %1 अब “%2” है।", "<p>No differences.</p>": "<p>कोई अंतर नहीं।</p>",
 "Version": "संस्करण", "Active": "सक्रिय", "● active": "● सक्रिय", "Author": "लेखक", "Saved": "सहेजा गया", "Note": "टिप्पणी",
 "off": "बंद", "What changed in this version?": "इस संस्करण में क्या बदला?", "Save as &new version": "नए संस्करण के रूप में सहेजें(&N)",
 "&Activate selected version": "चुना हुआ संस्करण सक्रिय करें(&A)", "&Roll back to previous version": "पिछले संस्करण पर लौटें(&R)",
 "Show &diff": "अंतर दिखाएँ(&D)", "&Greeting": "अभिवादन(&G)", "&Instructions": "निर्देश(&I)", "VAD threshold": "VAD सीमा",
 "prefix": "शुरुआती", "silence": "चुप्पी", "idle": "निष्क्रिय", "&Voice": "आवाज़(&V)", "N&ote": "टिप्पणी(&O)",
 "Compare the editor with": "संपादक की तुलना इससे करें",
 "Version %1 is now active; the next call uses it.": "संस्करण %1 अब सक्रिय है; अगली कॉल इसका इस्तेमाल करेगी।",
 "Rolled back: version %1 is active again.": "वापस लौटे: संस्करण %1 फिर से सक्रिय है।", "%1 v%2%3": "%1 सं.%2%3",
 " (active)": " (सक्रिय)", "Saved as version %1 (not active yet: activate it when ready).": "संस्करण %1 के रूप में सहेजा गया (अभी सक्रिय नहीं: तैयार होने पर सक्रिय करें)।",
 "Ticket": "टिकट", "Priority": "प्राथमिकता", "Category": "श्रेणी", "Assignee": "ज़िम्मेदार", "Opened": "खोला गया",
 "Summary": "सारांश", "Any status": "कोई भी स्थिति", "Any priority": "कोई भी प्राथमिकता",
 "Search ticket, order or summary": "टिकट, ऑर्डर या सारांश खोजें", "Select a ticket.": "एक टिकट चुनें।",
 "&Save changes": "बदलाव सहेजें(&S)", "Add a note for the team…": "टीम के लिए टिप्पणी जोड़ें…", "Add &note": "टिप्पणी जोड़ें(&N)",
 "Open the call": "कॉल खोलें", "Assi&gnee": "ज़िम्मेदार(&G)", "History": "इतिहास", "New ticket": "नया टिकट",
 "Order ID (optional)": "ऑर्डर ID (वैकल्पिक)", "What is the problem?": "समस्या क्या है?", "&Create ticket": "टिकट बनाएँ(&C)",
 "<b>%1</b> · %2 · %3": "<b>%1</b> · %2 · %3", "\nOrder: %1": "\nऑर्डर: %1", "opened the ticket": "ने टिकट खोला",
 "changed status %1 → %2": "ने स्थिति बदली %1 → %2", "assigned to %1": "ने %1 को सौंपा", "nobody": "किसी को नहीं",
 "note: %1": "टिप्पणी: %1", "A ticket cannot go from “%1” to “%2”.": "टिकट “%1” से “%2” में नहीं जा सकता।",
 "Write the note first.": "पहले टिप्पणी लिखें।", "Note added.": "टिप्पणी जोड़ी गई।",
 "Describe the problem in a few words.": "समस्या कुछ शब्दों में बताएँ।", "There is no order “%1”.": "“%1” नाम का कोई ऑर्डर नहीं है।",
 "Created %1.": "%1 बनाया गया।", "Unsaved changes": "बिना सहेजे बदलाव",
 "Cannot open the database (%1):\n%2\n\nChoose another one with File → Connect to database, or set DATABASE_URL.":
   "डेटाबेस नहीं खुल सका (%1):\n%2\n\nफ़ाइल → डेटाबेस से जुड़ें से दूसरा चुनें, या DATABASE_URL सेट करें।",
 "Start vaani-admin again to use the new database.": "नया डेटाबेस इस्तेमाल करने के लिए vaani-admin दोबारा शुरू करें।",
}

def main(path):
    tree = ET.parse(path)
    missing = []
    for msg in tree.getroot().iter('message'):
        src = msg.find('source').text or ''
        tr = msg.find('translation')
        if src in HI:
            tr.text = HI[src]
            tr.attrib.pop('type', None)
        else:
            missing.append(src)
    tree.write(path, encoding='utf-8', xml_declaration=True)
    if missing:
        print("no Hindi for:", *missing, sep="\n  ")
        return 1
    print("all messages translated")
    return 0

if __name__ == '__main__':
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else 'translations/vaani_admin_hi.ts'))
